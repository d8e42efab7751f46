using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using TorchSharp;

namespace SeedDaemon.Client.Torch;

/// <summary>
/// A snapshot of TorchSharp's RNG state (the default CPU generator and each stream generator) as
/// bytes plus their SHA-256, so a checkpoint can carry it and a resume can prove it restored the
/// same state.
/// </summary>
public sealed class RngState
{
    private const uint Magic = 0x53524E47; // "SRNG"

    private RngState(IReadOnlyDictionary<string, byte[]> parts)
    {
        Parts = parts;
        Bytes = Serialize(parts);
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(Bytes));
    }

    /// <summary>"cpu" and "stream:NAME" → the generator's state bytes.</summary>
    public IReadOnlyDictionary<string, byte[]> Parts { get; }

    /// <summary>The whole state, for a checkpoint.</summary>
    public byte[] Bytes { get; }

    /// <summary>SHA-256 of <see cref="Bytes"/>, lowercase hex.</summary>
    public string Sha256 { get; }

    public static RngState Capture(TorchSeedState? seeded = null)
    {
        TorchRuntime.EnsureLoaded();
        var parts = new SortedDictionary<string, byte[]>(StringComparer.Ordinal) { ["cpu"] = ToBytes(torch.get_rng_state()) };
        foreach (var (stream, generator) in seeded?.Generators ?? new Dictionary<string, torch.Generator>())
        {
            parts["stream:" + stream] = ToBytes(generator.get_state());
        }

        return new RngState(parts);
    }

    public static RngState FromBytes(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        try
        {
            var span = bytes.AsSpan();
            if (BinaryPrimitives.ReadUInt32LittleEndian(span) != Magic)
            {
                throw new FormatException("not an RNG state written by RngState.Bytes");
            }

            var count = BinaryPrimitives.ReadInt32LittleEndian(span[4..]);
            var offset = 8;
            var parts = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var nameLength = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
                var name = Encoding.UTF8.GetString(span.Slice(offset + 4, nameLength));
                offset += 4 + nameLength;
                var length = BinaryPrimitives.ReadInt32LittleEndian(span[offset..]);
                parts[name] = span.Slice(offset + 4, length).ToArray();
                offset += 4 + length;
            }

            return new RngState(parts);
        }
        catch (ArgumentOutOfRangeException error)
        {
            throw new FormatException("the RNG state bytes are truncated or damaged", error);
        }
    }

    /// <summary>
    /// Restores this state and proves it: captures again and compares the SHA-256. Throws when the
    /// restored state differs (e.g. a stream generator that does not exist in <paramref name="seeded"/>).
    /// </summary>
    public void Restore(TorchSeedState? seeded = null)
    {
        TorchRuntime.EnsureLoaded();
        foreach (var (name, bytes) in Parts)
        {
            using var tensor = torch.tensor(bytes, dtype: torch.ScalarType.Byte);
            if (name == "cpu")
            {
                torch.set_rng_state(tensor);
            }
            else if (seeded is not null && seeded.Generators.TryGetValue(name["stream:".Length..], out var generator))
            {
                generator.set_state(tensor);
            }
            else
            {
                throw new InvalidOperationException($"The captured state has '{name}' but no such generator was given to restore it into.");
            }
        }

        var restored = Capture(seeded);
        if (restored.Sha256 != Sha256)
        {
            throw new InvalidOperationException($"RNG state restore did not take: expected SHA-256 {Sha256}, found {restored.Sha256}.");
        }
    }

    private static byte[] ToBytes(torch.Tensor state)
    {
        using (state)
        {
            return state.data<byte>().ToArray();
        }
    }

    private static byte[] Serialize(IReadOnlyDictionary<string, byte[]> parts)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream, Encoding.UTF8);

        // BinaryWriter writes little-endian on every platform.
        writer.Write(Magic);
        writer.Write(parts.Count);
        foreach (var (name, bytes) in parts.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            writer.Write(nameBytes.Length);
            writer.Write(nameBytes);
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }

        writer.Flush();
        return stream.ToArray();
    }
}
