using System.Globalization;
using LiteDB;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The stored shape of runs' processes. Collection "processes": one document per process of a run,
/// keyed "experiment|run|worker" (small: loaded into memory at open). Fingerprints are stored in
/// blocks of steps (<see cref="FingerprintBlocks"/>). Neither is in the ledger's hash chain (see docs/runs.md).
/// </summary>
internal static class RunDocuments
{
    public const string Processes = "processes";

    private const char Separator = Documents.Separator;

    public static string ProcessId(ProcessKey key) =>
        string.Create(CultureInfo.InvariantCulture, $"{key.ExperimentId}{Separator}{key.RunId}{Separator}{key.Worker:x8}");

    public static BsonDocument ToDocument(ProcessRecord process) => DocumentSeal.Seal(new()
    {
        ["_id"] = ProcessId(process.Key),
        ["e"] = process.Key.ExperimentId,
        ["r"] = process.Key.RunId,
        ["w"] = (long)process.Key.Worker,
        ["env"] = Documents.ToPairs(process.Environment),
        ["rr"] = process.ResumedFrom?.RunId is { } run ? run : BsonValue.Null,
        ["rs"] = process.ResumedFrom?.Step ?? -1,
        ["t"] = process.StartUnixMs,
        ["fs"] = process.FirstStep,
        ["ls"] = process.LastStep,
        ["n"] = process.Steps,
        ["cc"] = process.ConflictCount,
        ["c"] = new BsonArray(process.Conflicts.Select(c => new BsonArray { c.Step, new BsonArray(c.Names.Select(n => new BsonValue(n))) })),
    });

    public static ProcessRecord ToProcess(BsonDocument document) => ToProcessRecord(DocumentSeal.Verify(document, Processes));

    private static ProcessRecord ToProcessRecord(BsonDocument document) => new(
        new ProcessKey(document["e"].AsString, document["r"].AsString, (uint)document["w"].AsInt64),
        Documents.FromPairs(document["env"].AsArray),
        document["rr"].IsNull ? null : new ResumePoint(document["rr"].AsString, document["rs"].AsInt64),
        document["t"].AsInt64,
        document["fs"].AsInt64,
        document["ls"].AsInt64,
        document["n"].AsInt64,
        document["cc"].AsInt64,
        document["c"].AsArray.Select(c => new StepConflict(c.AsArray[0].AsInt64, c.AsArray[1].AsArray.Select(n => n.AsString).ToList())).ToList());

    /// <summary>A process document's key, from its id ("experiment|run|worker(8 hex)").</summary>
    public static ProcessKey ParseProcessId(string id)
    {
        var workerStart = id.LastIndexOf(Separator);
        var runStart = workerStart > 0 ? id.IndexOf(Separator, StringComparison.Ordinal) : -1;
        return runStart > 0 && runStart < workerStart && uint.TryParse(id.AsSpan(workerStart + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var worker)
            ? new ProcessKey(id[..runStart], id[(runStart + 1)..workerStart], worker)
            : throw new InvalidDataException($"process document id '{id}' is damaged");
    }
}
