using System.Globalization;
using LiteDB;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The stored shape of records. Seeds are keyed by "experiment|worker(8 hex)|library|stream":
/// none of the parts can contain '|', and ordinal order of the key is (worker, library, stream)
/// order within an experiment, so one index answers both lookups and paged listings.
/// </summary>
internal static class Documents
{
    public const string Experiments = "experiments";
    public const string Seeds = "seeds";
    public const string Events = "events";

    public const char Separator = '|';

    // '}' is the character after '|': every key of an experiment sorts below "experiment}".
    private const char AfterSeparator = '}';

    public static string SeedId(string experimentId, uint worker, string library, string stream) =>
        string.Create(CultureInfo.InvariantCulture, $"{experimentId}{Separator}{worker:x8}{Separator}{library}{Separator}{stream}");

    public static string KeyLowerBound(string experimentId) => experimentId + Separator;

    public static string KeyUpperBound(string experimentId) => experimentId + AfterSeparator;

    public static BsonDocument ToDocument(ExperimentRecord experiment)
    {
        return new BsonDocument
        {
            ["_id"] = experiment.Id,
            ["root"] = Root.Format(experiment.Root),
            ["gen"] = experiment.RootGenerated,
            ["scheme"] = experiment.Scheme,
            ["ct"] = ToUnixMilliseconds(experiment.CreateTime),
            ["frozen"] = experiment.Frozen,
            ["labels"] = ToPairs(experiment.Labels),
        };
    }

    public static ExperimentRecord ToExperiment(BsonDocument document)
    {
        if (!Root.TryParse(document["root"].AsString, out var root))
        {
            throw new InvalidDataException($"Experiment '{document["_id"].AsString}' has a damaged root in the database.");
        }

        return new ExperimentRecord(
            document["_id"].AsString,
            root,
            document["gen"].AsBoolean,
            document["scheme"].AsString,
            FromUnixMilliseconds(document["ct"].AsInt64),
            document["frozen"].AsBoolean,
            FromPairs(document["labels"].AsArray));
    }

    /// <summary>A new issued-seed record; the key's parts live in its <c>_id</c> only.</summary>
    public static BsonDocument NewSeed(string id, SeedIssue issue, long nowMilliseconds, string requester) => new()
    {
        ["_id"] = id,
        ["v"] = unchecked((long)issue.Seed64),
        ["t"] = nowMilliseconds,
        ["r"] = requester,
        ["n"] = 1L,
    };

    /// <summary>A stored record read back: its key parsed from <c>_id</c>.</summary>
    public static SeedRecord ToSeed(BsonDocument document)
    {
        // "experiment|worker|library|stream": no part can contain the separator.
        var parts = document["_id"].AsString.Split(Separator);
        if (parts.Length != 4 || !uint.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var worker))
        {
            throw new InvalidDataException($"Issued-seed record '{document["_id"].AsString}' has a damaged key in the database.");
        }

        return ToSeed(new SeedIssue(parts[0], worker, parts[2], parts[3], 0), document);
    }

    /// <summary>The record of <paramref name="key"/> (whose seed is ignored: the stored one counts).</summary>
    public static SeedRecord ToSeed(SeedIssue key, BsonDocument document) => new(
        key.ExperimentId,
        key.Worker,
        key.Library,
        key.Stream,
        unchecked((ulong)document["v"].AsInt64),
        FromUnixMilliseconds(document["t"].AsInt64),
        document["r"].AsString,
        (ulong)document["n"].AsInt64);

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

    public static ChainHead HeadOf(BsonDocument experiment) =>
        experiment.TryGetValue("seq", out var sequence) && sequence.AsInt64 > 0
            ? new ChainHead(unchecked((ulong)sequence.AsInt64), experiment["head"].AsString)
            : new ChainHead(0, LedgerHash.ToHex(LedgerHash.Genesis));

    public static long ToUnixMilliseconds(DateTime utc) => new DateTimeOffset(utc).ToUnixTimeMilliseconds();

    public static DateTime FromUnixMilliseconds(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds).UtcDateTime;
}
