using System.Globalization;
using LiteDB;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The stored shape of experiments (collection "experiments", keyed by id): the record, the chain
/// head (sequence and hash of the last event), the ledger tree's right edge ("tree": its subtree
/// roots, largest first, of as many leaves as the head's sequence) and the sequence its checkpointed keys reflect.
/// Ledger documents (<see cref="LedgerDocuments"/>) and key chunks (<see cref="KeyChunkDocuments"/>)
/// are keyed "experiment|..." : '|' is in no id, and '}' (the next character) bounds a range.
/// </summary>
internal static class Documents
{
    public const string Experiments = "experiments";
    public const string Events = "events";
    public const string Keys = "keys";

    public const char Separator = '|';

    // '}' is the character after '|': every key of an experiment sorts below "experiment}".
    private const char AfterSeparator = '}';

    public static string KeyLowerBound(string experimentId) => experimentId + Separator;

    public static string KeyUpperBound(string experimentId) => experimentId + AfterSeparator;

    public static string Id(string experimentId, ulong number) =>
        string.Create(CultureInfo.InvariantCulture, $"{experimentId}{Separator}{number:x16}");

    public static (string ExperimentId, ulong Number) ParseId(string id)
    {
        var separator = id.LastIndexOf(Separator);
        return separator > 0 && ulong.TryParse(id.AsSpan(separator + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var number)
            ? (id[..separator], number)
            : throw new InvalidDataException($"document id '{id}' is damaged");
    }

    public static BsonDocument ToDocument(ExperimentRecord record, ChainHead head, MerkleFrontier tree, ulong checkpointSequence) => DocumentSeal.Seal(new()
    {
        ["_id"] = record.Id,
        ["root"] = Root.Format(record.Root),
        ["gen"] = record.RootGenerated,
        ["scheme"] = record.Scheme,
        ["ct"] = ToUnixMilliseconds(record.CreateTime),
        ["frozen"] = record.Frozen,
        ["labels"] = ToPairs(record.Labels),
        ["seq"] = unchecked((long)head.Sequence),
        ["head"] = head.Hash,
        ["tree"] = tree.Encode(),
        ["cp"] = unchecked((long)checkpointSequence),
    });

    /// <summary>The experiment as stored; its tree is null in a file of layout 5 or earlier (before the migration grows it).</summary>
    public static (ExperimentRecord Record, ChainHead Head, MerkleFrontier? Tree, ulong Checkpoint) ToExperiment(BsonDocument document)
    {
        DocumentSeal.Verify(document, Experiments);
        if (!Root.TryParse(document["root"].AsString, out var root))
        {
            throw new InvalidDataException($"experiment '{document["_id"].AsString}' has a damaged root");
        }

        var record = new ExperimentRecord(
            document["_id"].AsString,
            root,
            document["gen"].AsBoolean,
            document["scheme"].AsString,
            FromUnixMilliseconds(document["ct"].AsInt64),
            document["frozen"].AsBoolean,
            FromPairs(document["labels"].AsArray));
        var sequence = unchecked((ulong)document["seq"].AsInt64);
        var head = sequence == 0 ? ChainHead.Genesis : new ChainHead(sequence, document["head"].AsString);
        MerkleFrontier? tree = null;
        if (document.TryGetValue("tree", out var encoded))
        {
            try
            {
                tree = MerkleFrontier.Decode(unchecked((long)sequence), encoded.AsBinary ?? []);
            }
            catch (ArgumentException error)
            {
                throw DocumentSeal.Damaged(Experiments, record.Id, $"its ledger tree does not fit its {sequence} events ({error.Message})");
            }
        }

        return (record, head, tree, unchecked((ulong)document["cp"].AsInt64));
    }

    /// <summary>Labels as [key, value] pairs in ordinal key order.</summary>
    public static BsonArray ToPairs(IReadOnlyDictionary<string, string> labels)
    {
        var pairs = new BsonArray();
        foreach (var (key, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            pairs.Add(new BsonArray { key, value });
        }

        return pairs;
    }

    public static Dictionary<string, string> FromPairs(BsonArray pairs)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            labels[pair.AsArray[0].AsString] = pair.AsArray[1].AsString;
        }

        return labels;
    }

    public static long ToUnixMilliseconds(DateTime utc) => new DateTimeOffset(utc).ToUnixTimeMilliseconds();

    public static DateTime FromUnixMilliseconds(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds).UtcDateTime;
}
