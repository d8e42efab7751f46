using System.Text;

namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// A step's digests as one byte string: their count (one byte), then for each its kind (one byte),
/// name length (one byte), name (UTF-8), value length (one byte) and value. The embedded store keeps
/// a step's digests in this form and StreamFingerprints sends them in it (docs/runs.md), so a step
/// read is passed on without building an object per digest.
/// </summary>
internal static class PackedDigests
{
    public static int Size(IReadOnlyList<Digest> digests)
    {
        if (digests is PackedDigestList list)
        {
            return list.Packed.Length;
        }

        var size = 1;
        foreach (var digest in digests)
        {
            size += 3 + Encoding.UTF8.GetByteCount(digest.Name) + digest.Value.Length;
        }

        return size;
    }

    /// <summary>Writes the digests at the start of <paramref name="into"/>; answers the bytes written.</summary>
    public static int Write(IReadOnlyList<Digest> digests, Span<byte> into)
    {
        if (digests is PackedDigestList list)
        {
            list.Packed.Span.CopyTo(into);
            return list.Packed.Length;
        }

        var at = 0;
        into[at++] = (byte)digests.Count;
        foreach (var digest in digests)
        {
            into[at++] = (byte)digest.Kind;
            var nameLength = Encoding.UTF8.GetBytes(digest.Name, into[(at + 1)..]);
            into[at] = (byte)nameLength;
            at += 1 + nameLength;
            into[at++] = (byte)digest.Value.Length;
            digest.Value.CopyTo(into[at..]);
            at += digest.Value.Length;
        }

        return at;
    }

    public static byte[] Pack(IReadOnlyList<Digest> digests)
    {
        var packed = new byte[Size(digests)];
        Write(digests, packed);
        return packed;
    }

    /// <summary>Whether <paramref name="packed"/> is whole: its digests' lengths add up to its own, nothing allocated.</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> packed)
    {
        if (packed.IsEmpty)
        {
            return false;
        }

        var at = 1;
        for (var i = 0; i < packed[0]; i++)
        {
            if (at + 2 > packed.Length || (at += 2 + packed[at + 1]) >= packed.Length || (at += 1 + packed[at]) > packed.Length)
            {
                return false;
            }
        }

        return at == packed.Length;
    }

    /// <summary>The digests in <paramref name="packed"/>; <paramref name="what"/> names it in the error when it is damaged.</summary>
    public static Digest[] Unpack(ReadOnlySpan<byte> packed, string what)
    {
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
                digests[i] = new Digest(name, kind, packed.Slice(at, valueLength).ToArray());
                at += valueLength;
            }

            return at == packed.Length ? digests
                : throw new InvalidDataException($"{what} is damaged: {packed.Length - at} bytes after its digests");
        }
        catch (Exception error) when (error is IndexOutOfRangeException or ArgumentOutOfRangeException or ArgumentException)
        {
            throw new InvalidDataException($"{what} is damaged: its digests are cut short", error);
        }
    }
}

/// <summary>
/// A step's digests as read from the store, still packed: unpacked on first use, and passed on
/// packed as they are (StreamFingerprints' packed steps) without being unpacked at all.
/// </summary>
internal sealed class PackedDigestList(ReadOnlyMemory<byte> packed, string what) : IReadOnlyList<Digest>
{
    private Digest[]? _digests;

    public ReadOnlyMemory<byte> Packed { get; } = packed;

    private Digest[] Digests => _digests ??= PackedDigests.Unpack(Packed.Span, what);

    public int Count => Digests.Length;

    public Digest this[int index] => Digests[index];

    public IEnumerator<Digest> GetEnumerator() => ((IEnumerable<Digest>)Digests).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
