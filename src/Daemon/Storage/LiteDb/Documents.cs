using System.Globalization;
using LiteDB;
using SeedDaemon.Derivation;

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

    private const char Separator = '|';

    // '}' is the character after '|': every key of an experiment sorts below "experiment}".
    private const char AfterSeparator = '}';

    public static string SeedId(string experimentId, uint worker, string library, string stream) =>
        string.Create(CultureInfo.InvariantCulture, $"{experimentId}{Separator}{worker:x8}{Separator}{library}{Separator}{stream}");

    public static string SeedIdLowerBound(string experimentId) => experimentId + Separator;

    public static string SeedIdUpperBound(string experimentId) => experimentId + AfterSeparator;

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

    public static long ToUnixMilliseconds(DateTime utc) => new DateTimeOffset(utc).ToUnixTimeMilliseconds();

    public static DateTime FromUnixMilliseconds(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds).UtcDateTime;
}
