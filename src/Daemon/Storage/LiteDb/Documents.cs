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

    private const char Separator = '|';

    // '}' is the character after '|': every key of an experiment sorts below "experiment}".
    private const char AfterSeparator = '}';

    public static string SeedId(string experimentId, uint worker, string library, string stream) =>
        string.Create(CultureInfo.InvariantCulture, $"{experimentId}{Separator}{worker:x8}{Separator}{library}{Separator}{stream}");

    /// <summary>"experiment|sequence(16 hex)": ordinal order is chain order within an experiment.</summary>
    public static string EventId(string experimentId, ulong sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{experimentId}{Separator}{sequence:x16}");

    public static string KeyLowerBound(string experimentId) => experimentId + Separator;

    public static string KeyUpperBound(string experimentId) => experimentId + AfterSeparator;

    public static BsonDocument ToDocument(ExperimentRecord experiment)
    {
        var labels = new BsonArray();
        foreach (var (key, value) in experiment.Labels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            labels.Add(new BsonArray { key, value });
        }

        return new BsonDocument
        {
            ["_id"] = experiment.Id,
            ["root"] = Root.Format(experiment.Root),
            ["gen"] = experiment.RootGenerated,
            ["scheme"] = experiment.Scheme,
            ["ct"] = ToUnixMilliseconds(experiment.CreateTime),
            ["frozen"] = experiment.Frozen,
            ["labels"] = labels,
        };
    }

    public static ExperimentRecord ToExperiment(BsonDocument document)
    {
        if (!Root.TryParse(document["root"].AsString, out var root))
        {
            throw new InvalidDataException($"Experiment '{document["_id"].AsString}' has a damaged root in the database.");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in document["labels"].AsArray)
        {
            labels[pair.AsArray[0].AsString] = pair.AsArray[1].AsString;
        }

        return new ExperimentRecord(
            document["_id"].AsString,
            root,
            document["gen"].AsBoolean,
            document["scheme"].AsString,
            FromUnixMilliseconds(document["ct"].AsInt64),
            document["frozen"].AsBoolean,
            labels);
    }

    public static BsonDocument NewSeed(string id, SeedIssue issue, long nowMilliseconds, string requester) => new()
    {
        ["_id"] = id,
        ["e"] = issue.ExperimentId,
        ["w"] = (long)issue.Worker,
        ["l"] = issue.Library,
        ["s"] = issue.Stream,
        ["v"] = unchecked((long)issue.Seed64),
        ["t"] = nowMilliseconds,
        ["r"] = requester,
        ["n"] = 1L,
    };

    public static SeedRecord ToSeed(BsonDocument document) => new(
        document["e"].AsString,
        (uint)document["w"].AsInt64,
        document["l"].AsString,
        document["s"].AsString,
        unchecked((ulong)document["v"].AsInt64),
        FromUnixMilliseconds(document["t"].AsInt64),
        document["r"].AsString,
        (ulong)document["n"].AsInt64);

    public static BsonDocument ToDocument(LedgerEntry entry, string previousHash, string hash)
    {
        var labels = new BsonArray();
        foreach (var (key, value) in entry.ClientLabels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            labels.Add(new BsonArray { key, value });
        }

        return new BsonDocument
        {
            ["_id"] = EventId(entry.ExperimentId, entry.Sequence),
            ["e"] = entry.ExperimentId,
            ["q"] = unchecked((long)entry.Sequence),
            ["t"] = entry.TimeUnixMilliseconds,
            ["w"] = (long)entry.Worker,
            ["l"] = entry.Library,
            ["s"] = entry.Stream,
            ["v"] = unchecked((long)entry.Seed64),
            ["p"] = entry.Principal,
            ["a"] = entry.Peer,
            ["h"] = entry.ClientHost,
            ["i"] = entry.ClientPid,
            ["cl"] = labels,
            ["prev"] = previousHash,
            ["hash"] = hash,
        };
    }

    public static LedgerRecord ToEvent(BsonDocument document)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in document["cl"].AsArray)
        {
            labels[pair.AsArray[0].AsString] = pair.AsArray[1].AsString;
        }

        var entry = new LedgerEntry(
            document["e"].AsString,
            unchecked((ulong)document["q"].AsInt64),
            document["t"].AsInt64,
            (uint)document["w"].AsInt64,
            document["l"].AsString,
            document["s"].AsString,
            unchecked((ulong)document["v"].AsInt64),
            document["p"].AsString,
            document["a"].AsString,
            document["h"].AsString,
            document["i"].AsInt64,
            labels);
        return new LedgerRecord(entry, document["prev"].AsString, document["hash"].AsString);
    }

    public static ChainHead HeadOf(BsonDocument experiment) =>
        experiment.TryGetValue("seq", out var sequence) && sequence.AsInt64 > 0
            ? new ChainHead(unchecked((ulong)sequence.AsInt64), experiment["head"].AsString)
            : new ChainHead(0, LedgerHash.ToHex(LedgerHash.Genesis));

    public static long ToUnixMilliseconds(DateTime utc) => new DateTimeOffset(utc).ToUnixTimeMilliseconds();

    public static DateTime FromUnixMilliseconds(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds).UtcDateTime;
}
