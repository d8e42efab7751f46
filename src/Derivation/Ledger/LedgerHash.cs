using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using SeedDaemon.Ledger;

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

    /// <summary>The "previous hash" of an experiment's first event.</summary>
    public static byte[] Genesis => new byte[HashSize];

    public static byte[] CanonicalBytes(LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var hasher = new LedgerEventHasher(entry.ExperimentId, entry.TimeUnixMilliseconds, entry.Principal, entry.Peer, entry.ClientHost, entry.ClientPid, entry.ClientLabels);
        return hasher.CanonicalBytes(entry.Sequence, entry.Worker, entry.Library, entry.Stream, entry.Seed64);
    }

    /// <summary>SHA-256(previous || canonical(entry)).</summary>
    public static byte[] Compute(ReadOnlySpan<byte> previous, LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var hash = new byte[HashSize];
        var hasher = new LedgerEventHasher(entry.ExperimentId, entry.TimeUnixMilliseconds, entry.Principal, entry.Peer, entry.ClientHost, entry.ClientPid, entry.ClientLabels);
        hasher.Hash(previous, entry.Sequence, entry.Worker, entry.Library, entry.Stream, entry.Seed64, hash);
        return hash;
    }

    /// <summary>The entry's bytes as a leaf of the v2 tree (<see cref="LedgerTree"/>): no tag, no sequence, a kind byte in front.</summary>
    public static byte[] EntryBytes(LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var hasher = new LedgerEventHasher(entry.ExperimentId, entry.TimeUnixMilliseconds, entry.Principal, entry.Peer, entry.ClientHost, entry.ClientPid, entry.ClientLabels);
        return hasher.EntryBytes(entry.Worker, entry.Library, entry.Stream, entry.Seed64);
    }

    /// <summary>
    /// The leaf hashes of events in order: events of one request (the same time and origin, as a
    /// store reads them back) share one hasher, so each costs one SHA-256.
    /// </summary>
    public static byte[][] LeafHashes(IReadOnlyList<LedgerEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var leaves = new LedgerLeafHasher();
        return [.. entries.Select(leaves.Hash)];
    }

    public static string ToHex(ReadOnlySpan<byte> hash) => Convert.ToHexStringLower(hash);

    public static byte[] FromHex(string hex) =>
        hex.Length == HashSize * 2 ? Convert.FromHexString(hex) : throw new FormatException($"'{hex}' is not a {HashSize}-byte hex hash.");
}

/// <summary>
/// Hashes the events of one request (one thread at a time): what they share (experiment, time, who
/// asked) is encoded once, so each event costs one SHA-256 over a buffer built without allocation. The canonical bytes are
/// the tag and experiment id, then the event's own fields (sequence, time, worker, library, stream,
/// seed64), then the origin (principal, peer, client host, pid, labels).
/// </summary>
public sealed class LedgerEventHasher
{
    private static readonly byte[] Tag = Encoding.ASCII.GetBytes(LedgerHash.Format + "\n");

    private readonly byte[] _experimentId;
    private readonly long _time;
    private readonly byte[] _origin;

    public LedgerEventHasher(string experimentId, long timeUnixMilliseconds, string principal, string peer, string clientHost, long clientPid, IReadOnlyDictionary<string, string> clientLabels)
    {
        ArgumentNullException.ThrowIfNull(clientLabels);
        _experimentId = Encoding.UTF8.GetBytes(experimentId);
        _time = timeUnixMilliseconds;
        var origin = new ArrayBufferWriter<byte>(128);
        WriteString(origin, principal);
        WriteString(origin, peer);
        WriteString(origin, clientHost);
        WriteUInt64(origin, unchecked((ulong)clientPid));
        WriteUInt32(origin, (uint)clientLabels.Count);
        foreach (var (key, value) in clientLabels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            WriteString(origin, key);
            WriteString(origin, value);
        }

        _origin = origin.WrittenSpan.ToArray();
    }

    /// <summary>Writes SHA-256(previous || canonical(event)) into <paramref name="destination"/> (32 bytes).</summary>
    public void Hash(ReadOnlySpan<byte> previous, ulong sequence, uint worker, string library, string stream, ulong seed64, Span<byte> destination)
    {
        if (previous.Length != LedgerHash.HashSize)
        {
            throw new ArgumentException($"The previous hash must be {LedgerHash.HashSize} bytes.", nameof(previous));
        }

        var length = LedgerHash.HashSize + CanonicalLength(library, stream);
        var rented = length <= 1024 ? null : ArrayPool<byte>.Shared.Rent(length);
        var buffer = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
        previous.CopyTo(buffer);
        Write(buffer[LedgerHash.HashSize..], sequence, worker, library, stream, seed64);
        Sha256.HashData(buffer, destination);

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Writes the event's v2 leaf hash, SHA-256(0x00 || entry bytes), into <paramref name="destination"/> (32 bytes).</summary>
    public void LeafHash(uint worker, string library, string stream, ulong seed64, Span<byte> destination)
    {
        var length = 1 + EntryLength(library, stream);
        var rented = length <= 1024 ? null : ArrayPool<byte>.Shared.Rent(length);
        var buffer = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
        buffer[0] = 0x00;
        WriteEntry(buffer[1..], worker, library, stream, seed64);
        Sha256.HashData(buffer, destination);

        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public byte[] EntryBytes(uint worker, string library, string stream, ulong seed64)
    {
        var bytes = new byte[EntryLength(library, stream)];
        WriteEntry(bytes, worker, library, stream, seed64);
        return bytes;
    }

    public byte[] CanonicalBytes(ulong sequence, uint worker, string library, string stream, ulong seed64)
    {
        var bytes = new byte[CanonicalLength(library, stream)];
        Write(bytes, sequence, worker, library, stream, seed64);
        return bytes;
    }

    private int CanonicalLength(string library, string stream) =>
        Tag.Length + 4 + _experimentId.Length + 8 + 8 + 4 + 4 + Encoding.UTF8.GetByteCount(library) + 4 + Encoding.UTF8.GetByteCount(stream) + 8 + _origin.Length;

    private int EntryLength(string library, string stream) =>
        1 + 4 + _experimentId.Length + 8 + 4 + 4 + Encoding.UTF8.GetByteCount(library) + 4 + Encoding.UTF8.GetByteCount(stream) + 8 + _origin.Length;

    /// <summary>The v2 entry: kind, experiment, time, worker, library, stream, seed64, origin (v1's fields and encoding, without its tag and sequence).</summary>
    private void WriteEntry(Span<byte> buffer, uint worker, string library, string stream, ulong seed64)
    {
        buffer[0] = LedgerTree.SeedEventKind;
        var at = 1;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[at..], (uint)_experimentId.Length);
        _experimentId.CopyTo(buffer[(at + 4)..]);
        at += 4 + _experimentId.Length;
        BinaryPrimitives.WriteUInt64BigEndian(buffer[at..], unchecked((ulong)_time));
        BinaryPrimitives.WriteUInt32BigEndian(buffer[(at + 8)..], worker);
        at += 12;
        at += WriteString(buffer[at..], library);
        at += WriteString(buffer[at..], stream);
        BinaryPrimitives.WriteUInt64BigEndian(buffer[at..], seed64);
        at += 8;
        _origin.CopyTo(buffer[at..]);
    }

    private void Write(Span<byte> buffer, ulong sequence, uint worker, string library, string stream, ulong seed64)
    {
        var at = 0;
        Tag.CopyTo(buffer);
        at += Tag.Length;
        BinaryPrimitives.WriteUInt32BigEndian(buffer[at..], (uint)_experimentId.Length);
        _experimentId.CopyTo(buffer[(at + 4)..]);
        at += 4 + _experimentId.Length;
        BinaryPrimitives.WriteUInt64BigEndian(buffer[at..], sequence);
        BinaryPrimitives.WriteUInt64BigEndian(buffer[(at + 8)..], unchecked((ulong)_time));
        BinaryPrimitives.WriteUInt32BigEndian(buffer[(at + 16)..], worker);
        at += 20;
        at += WriteString(buffer[at..], library);
        at += WriteString(buffer[at..], stream);
        BinaryPrimitives.WriteUInt64BigEndian(buffer[at..], seed64);
        at += 8;
        _origin.CopyTo(buffer[at..]);
    }

    private static int WriteString(Span<byte> buffer, string value)
    {
        var length = Encoding.UTF8.GetBytes(value, buffer[4..]);
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)length);
        return 4 + length;
    }

    private static void WriteString(ArrayBufferWriter<byte> buffer, string value)
    {
        WriteUInt32(buffer, (uint)Encoding.UTF8.GetByteCount(value));
        var written = Encoding.UTF8.GetBytes(value, buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length)));
        buffer.Advance(written);
    }

    private static void WriteUInt32(ArrayBufferWriter<byte> buffer, uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(buffer.GetSpan(4), value);
        buffer.Advance(4);
    }

    private static void WriteUInt64(ArrayBufferWriter<byte> buffer, ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(buffer.GetSpan(8), value);
        buffer.Advance(8);
    }
}

/// <summary>
/// Leaf hashes of events read in order: consecutive events of one request (the same time and origin)
/// share one <see cref="LedgerEventHasher"/>, so each costs one SHA-256.
/// </summary>
public sealed class LedgerLeafHasher
{
    private LedgerEventHasher? _hasher;
    private LedgerEntry? _shared;

    public byte[] Hash(LedgerEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (_shared is null || !SameRequest(_shared, entry))
        {
            _hasher = new LedgerEventHasher(entry.ExperimentId, entry.TimeUnixMilliseconds, entry.Principal, entry.Peer, entry.ClientHost, entry.ClientPid, entry.ClientLabels);
            _shared = entry;
        }

        var hash = new byte[LedgerHash.HashSize];
        _hasher!.LeafHash(entry.Worker, entry.Library, entry.Stream, entry.Seed64, hash);
        return hash;
    }

    private static bool SameRequest(LedgerEntry a, LedgerEntry b) =>
        a.TimeUnixMilliseconds == b.TimeUnixMilliseconds && a.ClientPid == b.ClientPid && a.ExperimentId == b.ExperimentId
        && a.Principal == b.Principal && a.Peer == b.Peer && a.ClientHost == b.ClientHost
        && (ReferenceEquals(a.ClientLabels, b.ClientLabels) || (a.ClientLabels.Count == b.ClientLabels.Count && a.ClientLabels.All(l => b.ClientLabels.TryGetValue(l.Key, out var v) && v == l.Value)));
}
