using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using SeedDaemon.V1;

namespace SeedDaemon.Client;

/// <summary>
/// One step of a StreamFingerprints answer: whose, which step, and its digests as they travelled
/// (packed). Two steps whose packed digests are the same bytes are equal without unpacking them.
/// </summary>
public readonly record struct PackedStep(uint Worker, long Step, ReadOnlyMemory<byte> Digests)
{
    /// <summary>The step's digests, in the order the process reported them.</summary>
    /// <exception cref="InvalidDataException">The packed digests are damaged.</exception>
    public IReadOnlyList<Digest> Unpack()
    {
        var packed = Digests.Span;
        try
        {
            var at = 0;
            var digests = new Digest[packed[at++]];
            for (var i = 0; i < digests.Length; i++)
            {
                var kind = (DigestKind)packed[at++];
                var nameLength = packed[at++];
                var name = Encoding.UTF8.GetString(packed.Slice(at, nameLength));
                at += nameLength;
                var valueLength = packed[at++];
                digests[i] = new Digest { Name = name, Kind = kind, Value = ByteString.CopyFrom(packed.Slice(at, valueLength)) };
                at += valueLength;
            }

            return at == packed.Length ? digests : throw Damaged(Worker, Step);
        }
        catch (Exception error) when (error is IndexOutOfRangeException or ArgumentException)
        {
            throw Damaged(Worker, Step);
        }
    }

    private static byte[] Pack(Google.Protobuf.Collections.RepeatedField<Digest> digests)
    {
        var packed = new List<byte> { (byte)digests.Count };
        foreach (var digest in digests)
        {
            var name = Encoding.UTF8.GetBytes(digest.Name);
            packed.Add((byte)digest.Kind);
            packed.Add((byte)name.Length);
            packed.AddRange(name);
            packed.Add((byte)digest.Value.Length);
            packed.AddRange(digest.Value);
        }

        return [.. packed];
    }

    private static InvalidDataException Damaged(uint worker, long step) => new($"the digests of worker {worker} at step {step} arrived damaged");

    /// <summary>
    /// The steps of one chunk in the order they travelled, (step, worker): its packed steps (asked for
    /// with StreamFingerprintsRequest.packed), or its steps as messages, packed here, from a seedd that
    /// does not pack them.
    /// </summary>
    /// <exception cref="InvalidDataException">The chunk is cut short.</exception>
    public static IEnumerable<PackedStep> Read(FingerprintChunk chunk)
    {
        const int Head = 4 + 8 + 2;
        if (chunk.PackedSteps.IsEmpty)
        {
            foreach (var step in chunk.Steps)
            {
                yield return new PackedStep(step.Worker, step.Step, Pack(step.Digests));
            }

            yield break;
        }

        var bytes = chunk.PackedSteps.Memory;
        var at = 0;
        while (at < bytes.Length)
        {
            var head = bytes.Span[at..];
            var length = head.Length >= Head ? BinaryPrimitives.ReadUInt16LittleEndian(head[12..]) : int.MaxValue;
            if (length > head.Length - Head)
            {
                throw new InvalidDataException($"a chunk of fingerprints arrived cut short: {head.Length} bytes left at byte {at}");
            }

            yield return new PackedStep(BinaryPrimitives.ReadUInt32LittleEndian(head), BinaryPrimitives.ReadInt64LittleEndian(head[4..]), bytes.Slice(at + Head, length));
            at += Head + length;
        }
    }
}
