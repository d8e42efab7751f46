using System.Buffers.Binary;
using System.Globalization;
using LiteDB;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The stored shape of fingerprints (layout 5). Collection "fingerprint_blocks": one document per
/// process and block of 16 steps (block = step / 16), keyed "experiment|run|block|worker" with both
/// numbers in fixed-width hex, so a run's blocks are one id range in (block, worker) order: a row of
/// blocks holds every process's steps 16·block to 16·block + 15. A document is its id, "p" (its
/// process's last step before the block, -1 for none: a reader finds a block an index lost, see
/// <see cref="StepLinks"/>), and "d": its steps, each as its offset in the block (one byte), the
/// length of its digests (two bytes, little-endian) and its digests (<see cref="PackedDigests"/>).
/// A process's new steps are appended to its last block inside the commit that records them.
/// </summary>
internal static class FingerprintBlocks
{
    public const string Collection = "fingerprint_blocks";

    /// <summary>Layouts 2 to 4: one document per process and step, keyed "experiment|run|step|worker" (migrated at open).</summary>
    public const string StepCollection = "fingerprints";

    public const int Steps = 16;

    private const char Separator = Documents.Separator;

    public static long Of(long step) => step / Steps;

    public static string Id(ProcessKey key, long block) =>
        string.Create(CultureInfo.InvariantCulture, $"{key.ExperimentId}{Separator}{key.RunId}{Separator}{block:x16}{Separator}{key.Worker:x8}");

    /// <summary>The id range of a run's blocks from row <paramref name="fromBlock"/> on.</summary>
    public static (string Lower, string Upper) RunRange(string experimentId, string runId, long fromBlock) => (
        string.Create(CultureInfo.InvariantCulture, $"{experimentId}{Separator}{runId}{Separator}{fromBlock:x16}{Separator}"),
        string.Create(CultureInfo.InvariantCulture, $"{experimentId}{Separator}{runId}}}"));

    /// <summary>A block's document; <paramref name="steps"/> ascending, all in one block.</summary>
    public static BsonDocument ToDocument(ProcessKey key, long previousStep, IReadOnlyList<StepFingerprint> steps)
    {
        var block = Of(steps[0].Step);
        var size = 0;
        foreach (var step in steps)
        {
            size += 3 + PackedDigests.Size(step.Digests);
        }

        var blob = new byte[size];
        var at = 0;
        foreach (var step in steps)
        {
            blob[at] = (byte)(step.Step - (block * Steps));
            var length = PackedDigests.Write(step.Digests, blob.AsSpan(at + 3));
            BinaryPrimitives.WriteUInt16LittleEndian(blob.AsSpan(at + 1), (ushort)length);
            at += 3 + length;
        }

        return DocumentSeal.Seal(new BsonDocument { ["_id"] = Id(key, block), ["p"] = previousStep, ["d"] = blob });
    }

    /// <summary>A block read back: whose, the step before it, and its steps (digests unpacked when used).</summary>
    public static Block ToBlock(BsonDocument document)
    {
        DocumentSeal.Verify(document, Collection);
        var id = document["_id"].AsString;
        var (key, block) = ParseId(id);
        var blob = document["d"].AsBinary;
        var steps = new List<StepFingerprint>(Steps);
        var at = 0;
        while (at < blob.Length)
        {
            var offset = blob[at];
            var length = at + 3 <= blob.Length ? BinaryPrimitives.ReadUInt16LittleEndian(blob.AsSpan(at + 1)) : int.MaxValue;
            var step = (block * Steps) + offset;
            if (offset >= Steps || length > blob.Length - at - 3 || (steps.Count > 0 && step <= steps[^1].Step)
                || !PackedDigests.IsWellFormed(blob.AsSpan(at + 3, length)))
            {
                throw DocumentSeal.Damaged(Collection, id, $"its steps are damaged at byte {at}");
            }

            steps.Add(new StepFingerprint(step, new PackedDigestList(blob.AsMemory(at + 3, length), $"the fingerprint of worker {key.Worker} at step {step} in document '{id}' of collection \"{Collection}\"")));
            at += 3 + length;
        }

        return steps.Count > 0 ? new Block(key, document["p"].AsInt64, steps) : throw DocumentSeal.Damaged(Collection, id, "it holds no step");
    }

    /// <summary>A block document's process and block number, from its id ("experiment|run|block(16 hex)|worker(8 hex)").</summary>
    public static (ProcessKey Key, long Block) ParseId(string id)
    {
        const int Tail = 16 + 1 + 8;
        var runEnd = id.Length - Tail - 1;
        var experimentEnd = runEnd >= 0 ? id.IndexOf(Separator, StringComparison.Ordinal) : -1;
        if (experimentEnd <= 0 || experimentEnd >= runEnd || id[runEnd] != Separator || id[^9] != Separator
            || !long.TryParse(id.AsSpan(runEnd + 1, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var number)
            || !uint.TryParse(id.AsSpan(id.Length - 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var worker))
        {
            throw new InvalidDataException($"fingerprint document id '{id}' is damaged");
        }

        return (new ProcessKey(id[..experimentEnd], id[(experimentEnd + 1)..runEnd], worker), number);
    }

    /// <summary>One process's steps in one block, ascending, and its last step before them.</summary>
    internal sealed record Block(ProcessKey Key, long PreviousStep, List<StepFingerprint> Steps)
    {
        public string Id => FingerprintBlocks.Id(Key, Of(Steps[0].Step));
    }
}
