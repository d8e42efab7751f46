using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SeedDaemon.Derivation;

/// <summary>
/// The derivation scheme "seedseq-v1": a pure function of (root, worker, library, stream).
/// Its answers never change; a different derivation gets a different scheme name.
/// </summary>
public static class SeedSeqV1
{
    public const string Scheme = "seedseq-v1";

    private const uint Low31 = 0x7FFFFFFF;

    /// <summary>The first 4 bytes of SHA-256 of the UTF-8 bytes of <paramref name="name"/>, little-endian.</summary>
    public static uint Tag(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var byteCount = Encoding.UTF8.GetByteCount(name);
        Span<byte> utf8 = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(name, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8, hash);
        return BinaryPrimitives.ReadUInt32LittleEndian(hash);
    }

    /// <summary>Derives one seed. Validates the key; prefer a cached <see cref="SeedColumn"/> for many workers.</summary>
    public static DerivedSeed Derive(UInt128 root, uint worker, string library, string stream) =>
        SeedColumn.Create(root, library, stream).Derive(worker);

    /// <summary>
    /// The keyed permutation of step 5: four rounds of xor, odd multiply and xorshift, each a
    /// bijection on [0, 2^31), so distinct workers below 2^31 get distinct low 31 bits.
    /// </summary>
    public static uint Permute(in Words4 keys, uint worker)
    {
        var x = worker;
        for (var i = 0; i < SeedSequence.PoolSize; i++)
        {
            var k = keys[i] & Low31;
            x = ((x ^ k) * (k | 1)) & Low31;
            x ^= x >> 15;
        }

        return x;
    }

    /// <summary>Step 6: the high 33 bits from the key sequence, the low 31 from the permutation.</summary>
    public static ulong Combine(in Words4 state, uint permutedWorker) =>
        ((state[0] | ((ulong)state[1] << 32)) & ~(ulong)Low31) | permutedWorker;
}
