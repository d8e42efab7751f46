using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SeedDaemon.Derivation.Ledger;

/// <summary>
/// The ledger's hash chain, "seedd-ledger-v1": <c>hash = SHA-256(prev_hash || canonical(event))</c>,
/// with 32 zero bytes before the first event. The canonical bytes are the ASCII tag
/// "seedd-ledger-v1\n" followed by the fields in a fixed order: strings as a big-endian u32 byte
/// length and their UTF-8 bytes, integers big-endian (u64 sequence, i64 time in Unix ms, u32
/// worker, u64 seed64, i64 client pid), and the client labels as a u32 count then key and value
/// strings in ordinal key order. Any language can re-hash a chain from a manifest.
/// </summary>
public static class LedgerHash
{
    public const string Format = "seedd-ledger-v1";
    public const int HashSize = 32;

    private static readonly byte[] Tag = Encoding.ASCII.GetBytes(Format + "\n");

    /// <summary>The "previous hash" of an experiment's first event.</summary>
    public static byte[] Genesis => new byte[HashSize];

    public static byte[] CanonicalBytes(LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        using var buffer = new MemoryStream(256);
        buffer.Write(Tag);
        WriteString(buffer, entry.ExperimentId);
        WriteUInt64(buffer, entry.Sequence);
        WriteUInt64(buffer, unchecked((ulong)entry.TimeUnixMilliseconds));
        WriteUInt32(buffer, entry.Worker);
        WriteString(buffer, entry.Library);
        WriteString(buffer, entry.Stream);
        WriteUInt64(buffer, entry.Seed64);
        WriteString(buffer, entry.Principal);
        WriteString(buffer, entry.Peer);
        WriteString(buffer, entry.ClientHost);
        WriteUInt64(buffer, unchecked((ulong)entry.ClientPid));
        WriteUInt32(buffer, (uint)entry.ClientLabels.Count);
        foreach (var (key, value) in entry.ClientLabels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            WriteString(buffer, key);
            WriteString(buffer, value);
        }

        return buffer.ToArray();
    }

    /// <summary>SHA-256(previous || canonical(entry)).</summary>
    public static byte[] Compute(ReadOnlySpan<byte> previous, LedgerEntry entry)
    {
        if (previous.Length != HashSize)
        {
            throw new ArgumentException($"The previous hash must be {HashSize} bytes.", nameof(previous));
        }

        var canonical = CanonicalBytes(entry);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(previous);
        sha.AppendData(canonical);
        return sha.GetHashAndReset();
    }

    public static string ToHex(ReadOnlySpan<byte> hash) => Convert.ToHexStringLower(hash);

    public static byte[] FromHex(string hex) =>
        hex.Length == HashSize * 2 ? Convert.FromHexString(hex) : throw new FormatException($"'{hex}' is not a {HashSize}-byte hex hash.");

    private static void WriteString(Stream buffer, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        WriteUInt32(buffer, (uint)bytes.Length);
        buffer.Write(bytes);
    }

    private static void WriteUInt32(Stream buffer, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        buffer.Write(bytes);
    }

    private static void WriteUInt64(Stream buffer, ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        buffer.Write(bytes);
    }
}
