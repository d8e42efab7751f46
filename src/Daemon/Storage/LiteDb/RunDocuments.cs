using System.Globalization;
using System.Text;
using LiteDB;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The stored shape of runs. Collection "processes": one document per process of a run, keyed
/// "experiment|run|worker" (small: loaded into memory at open). Collection "fingerprints": one
/// document per process and step, keyed "experiment|run|step|worker" with both numbers in fixed-width
/// hex, so a run's fingerprints are one id range in (step, worker) order: what runs diff streams.
/// Each fingerprint names its process's step before it ("p", -1 for the first), so a reader finds a
/// document an index lost (<see cref="StepLinks"/>). Neither is in the ledger's hash chain (see docs/runs.md).
/// </summary>
internal static class RunDocuments
{
    public const string Processes = "processes";
    public const string Fingerprints = "fingerprints";

    private const char Separator = Documents.Separator;

    public static string ProcessId(ProcessKey key) =>
        string.Create(CultureInfo.InvariantCulture, $"{key.ExperimentId}{Separator}{key.RunId}{Separator}{key.Worker:x8}");

    public static string FingerprintId(ProcessKey key, long step) =>
        string.Create(CultureInfo.InvariantCulture, $"{key.ExperimentId}{Separator}{key.RunId}{Separator}{step:x16}{Separator}{key.Worker:x8}");

    /// <summary>The id range of a run's fingerprints from (<paramref name="fromStep"/>, <paramref name="fromWorker"/>) on.</summary>
    public static (string Lower, string Upper) RunRange(string experimentId, string runId, long fromStep, uint fromWorker) => (
        string.Create(CultureInfo.InvariantCulture, $"{experimentId}{Separator}{runId}{Separator}{fromStep:x16}{Separator}{fromWorker:x8}"),
        string.Create(CultureInfo.InvariantCulture, $"{experimentId}{Separator}{runId}}}"));

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

    /// <summary>
    /// A step's digests packed in one binary field (count, then kind, name length, name, value length,
    /// value each): a document is its id and one blob, read without building a BSON array per digest.
    /// </summary>
    public static BsonDocument ToDocument(ProcessKey key, StepFingerprint fingerprint, long previousStep)
    {
        var size = 1 + fingerprint.Digests.Sum(d => 3 + Encoding.UTF8.GetByteCount(d.Name) + d.Value.Length);
        var blob = new byte[size];
        var at = 0;
        blob[at++] = (byte)fingerprint.Digests.Count;
        foreach (var digest in fingerprint.Digests)
        {
            blob[at++] = (byte)digest.Kind;
            var name = Encoding.UTF8.GetBytes(digest.Name);
            blob[at++] = (byte)name.Length;
            name.CopyTo(blob, at);
            at += name.Length;
            blob[at++] = (byte)digest.Value.Length;
            digest.Value.CopyTo(blob, at);
            at += digest.Value.Length;
        }

        return DocumentSeal.Seal(new BsonDocument { ["_id"] = FingerprintId(key, fingerprint.Step), ["p"] = previousStep, ["d"] = blob });
    }

    public static FingerprintRecord ToFingerprint(BsonDocument document)
    {
        DocumentSeal.Verify(document, Fingerprints);
        var id = document["_id"].AsString;
        var (key, step) = ParseFingerprintId(id);
        var blob = document["d"].AsBinary;
        try
        {
            var at = 0;
            var digests = new Digest[blob[at++]];
            for (var i = 0; i < digests.Length; i++)
            {
                var kind = (DigestKind)blob[at++];
                var nameLength = blob[at++];
                var name = Encoding.UTF8.GetString(blob, at, nameLength);
                at += nameLength;
                var valueLength = blob[at++];
                digests[i] = new Digest(name, kind, blob.AsSpan(at, valueLength).ToArray());
                at += valueLength;
            }

            return at == blob.Length ? new FingerprintRecord(key, new StepFingerprint(step, digests))
                : throw new InvalidDataException($"fingerprint document '{id}' is damaged: {blob.Length - at} bytes after its digests");
        }
        catch (Exception error) when (error is IndexOutOfRangeException or ArgumentOutOfRangeException or ArgumentException)
        {
            throw new InvalidDataException($"fingerprint document '{id}' is damaged: its digests are cut short", error);
        }
    }

    /// <summary>A process document's key, from its id ("experiment|run|worker(8 hex)").</summary>
    public static ProcessKey ParseProcessId(string id)
    {
        var workerStart = id.LastIndexOf(Separator);
        var runStart = workerStart > 0 ? id.IndexOf(Separator, StringComparison.Ordinal) : -1;
        return runStart > 0 && runStart < workerStart && uint.TryParse(id.AsSpan(workerStart + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var worker)
            ? new ProcessKey(id[..runStart], id[(runStart + 1)..workerStart], worker)
            : throw new InvalidDataException($"process document id '{id}' is damaged");
    }

    /// <summary>The step before a stored fingerprint's, of its process.</summary>
    public static long PreviousStep(BsonDocument document) => document["p"].AsInt64;

    public static (ProcessKey Key, long Step) ParseFingerprintId(string id)
    {
        // "experiment|run|step(16 hex)|worker(8 hex)": the numbers are fixed-width at the end.
        const int Tail = 16 + 1 + 8;
        var runEnd = id.Length - Tail - 1;
        var experimentEnd = runEnd >= 0 ? id.IndexOf(Separator, StringComparison.Ordinal) : -1;
        if (experimentEnd <= 0 || experimentEnd >= runEnd || id[runEnd] != Separator || id[^9] != Separator
            || !long.TryParse(id.AsSpan(runEnd + 1, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var step)
            || !uint.TryParse(id.AsSpan(id.Length - 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var worker))
        {
            throw new InvalidDataException($"fingerprint document id '{id}' is damaged");
        }

        return (new ProcessKey(id[..experimentEnd], id[(experimentEnd + 1)..runEnd], worker), step);
    }
}
