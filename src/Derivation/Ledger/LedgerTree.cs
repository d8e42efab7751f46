using System.Buffers.Binary;
using System.Text;

namespace SeedDaemon.Derivation.Ledger;

/// <summary>
/// The ledger's v2 form, "seedd-ledger-v2": each experiment's events are the leaves of an RFC 9162
/// Merkle tree, in chain order (leaf index = sequence - 1). A leaf hashes the event's entry bytes,
/// which do not include its position: <c>SHA-256(0x00 || entry)</c>, where entry is a kind byte
/// (<see cref="SeedEventKind"/>) followed by v1's fields without its tag and sequence: experiment id,
/// time (i64 Unix ms), worker (u32), library, stream, seed64 (u64), principal, peer, client host,
/// client pid (i64) and the client labels (u32 count, then key and value, keys in ordinal order);
/// integers big-endian, strings as a u32 byte length and UTF-8 (docs/audit.md). The v1 chain
/// (<see cref="LedgerHash"/>) is still kept over the same events.
/// </summary>
public static class LedgerTree
{
    public const string Format = "seedd-ledger-v2";

    /// <summary>The first byte of a seed event's entry (the only kind recorded today).</summary>
    public const byte SeedEventKind = 0x01;

    /// <summary>The event an entry holds (its sequence 0: an entry does not carry its position).</summary>
    /// <exception cref="FormatException">The bytes are not a whole seed event entry, naming what is wrong.</exception>
    public static LedgerEntry ParseEntry(ReadOnlySpan<byte> entry)
    {
        var reader = new Reader(entry);
        var kind = reader.Byte();
        if (kind != SeedEventKind)
        {
            throw new FormatException($"entry kind {kind} is not a seed event ({SeedEventKind})");
        }

        var experiment = reader.String();
        var time = (long)reader.UInt64();
        var worker = reader.UInt32();
        var library = reader.String();
        var stream = reader.String();
        var seed64 = reader.UInt64();
        var principal = reader.String();
        var peer = reader.String();
        var host = reader.String();
        var pid = (long)reader.UInt64();
        var count = reader.UInt32();
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        string? previous = null;
        for (var i = 0u; i < count; i++)
        {
            var key = reader.String();
            if (previous is not null && string.CompareOrdinal(previous, key) >= 0)
            {
                throw new FormatException("its client labels are not in ordinal key order");
            }

            labels[key] = reader.String();
            previous = key;
        }

        if (!reader.AtEnd)
        {
            throw new FormatException("bytes follow the last field");
        }

        return new LedgerEntry(experiment, 0, time, worker, library, stream, seed64, principal, peer, host, pid, labels);
    }

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        public readonly bool AtEnd => _at == _bytes.Length;

        public byte Byte() => Take(1)[0];

        public uint UInt32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));

        public ulong UInt64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

        public string String()
        {
            var length = UInt32();
            try
            {
                return new UTF8Encoding(false, true).GetString(Take(checked((int)length)));
            }
            catch (Exception error) when (error is ArgumentException or OverflowException)
            {
                throw new FormatException("a string is not UTF-8, or longer than the entry");
            }
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (count > _bytes.Length - _at)
            {
                throw new FormatException($"it ends after {_bytes.Length} bytes, inside a field");
            }

            var taken = _bytes.Slice(_at, count);
            _at += count;
            return taken;
        }
    }
}
