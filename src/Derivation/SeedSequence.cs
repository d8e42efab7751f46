namespace SeedDaemon.Derivation;

/// <summary>
/// NumPy's <c>SeedSequence</c> (numpy/random/bit_generator.pyx) with its default pool of four
/// 32-bit words. Re-implemented here so that every seed the daemon issues can be re-derived with
/// NumPy alone, and vice versa.
/// </summary>
public static class SeedSequence
{
    public const int PoolSize = 4;

    private const uint InitA = 0x43b0d7e5;
    private const uint MultA = 0x931e8875;
    private const uint InitB = 0x8b51f9dd;
    private const uint MultB = 0x58f38ded;
    private const uint MixMultL = 0xca01f9dd;
    private const uint MixMultR = 0x4973f715;
    private const int XShift = 16;

    /// <summary>
    /// Mixes an assembled entropy array (see <see cref="AssembleEntropy"/>) into a pool.
    /// </summary>
    public static void MixEntropy(ReadOnlySpan<uint> entropy, Span<uint> pool)
    {
        var hashConst = MixFirstWords(entropy, pool);
        for (var i = PoolSize; i < entropy.Length; i++)
        {
            MixWord(pool, ref hashConst, entropy[i]);
        }
    }

    /// <summary>
    /// The first phase of <see cref="MixEntropy"/>: fills the pool from the first four entropy
    /// words (zeros where there are fewer) and mixes every pool word into every other. Returns the
    /// running hash constant that the remaining words continue with. The result depends only on
    /// those four words, which is what lets a column cache it per root.
    /// </summary>
    public static uint MixFirstWords(ReadOnlySpan<uint> entropy, Span<uint> pool)
    {
        if (pool.Length != PoolSize)
        {
            throw new ArgumentException($"The pool must have {PoolSize} words.", nameof(pool));
        }

        var hashConst = InitA;
        for (var i = 0; i < PoolSize; i++)
        {
            pool[i] = HashMix(i < entropy.Length ? entropy[i] : 0u, ref hashConst);
        }

        for (var src = 0; src < PoolSize; src++)
        {
            for (var dst = 0; dst < PoolSize; dst++)
            {
                if (src != dst)
                {
                    pool[dst] = Mix(pool[dst], HashMix(pool[src], ref hashConst));
                }
            }
        }

        return hashConst;
    }

    /// <summary>The second phase of <see cref="MixEntropy"/>: one entropy word beyond the pool size.</summary>
    public static void MixWord(Span<uint> pool, ref uint hashConst, uint word)
    {
        for (var dst = 0; dst < PoolSize; dst++)
        {
            pool[dst] = Mix(pool[dst], HashMix(word, ref hashConst));
        }
    }

    /// <summary><c>generate_state(n, np.uint32)</c>: as many words as <paramref name="state"/> holds.</summary>
    public static void GenerateState(ReadOnlySpan<uint> pool, Span<uint> state)
    {
        var hashConst = InitB;
        for (var i = 0; i < state.Length; i++)
        {
            var value = pool[i % PoolSize];
            value ^= hashConst;
            hashConst *= MultB;
            value *= hashConst;
            value ^= value >> XShift;
            state[i] = value;
        }
    }

    /// <summary>
    /// NumPy's entropy assembly for an integer entropy and a spawn key of 32-bit words: the integer
    /// as little-endian 32-bit words (zero is one word), zero-padded to the pool size when there is
    /// a spawn key, then the spawn key. Returns the number of words written.
    /// </summary>
    public static int AssembleEntropy(UInt128 entropy, ReadOnlySpan<uint> spawnKey, Span<uint> destination)
    {
        var count = 0;
        do
        {
            destination[count++] = (uint)entropy;
            entropy >>= 32;
        }
        while (entropy != UInt128.Zero);

        if (!spawnKey.IsEmpty)
        {
            while (count < PoolSize)
            {
                destination[count++] = 0;
            }
        }

        spawnKey.CopyTo(destination[count..]);
        return count + spawnKey.Length;
    }

    private static uint HashMix(uint value, ref uint hashConst)
    {
        value ^= hashConst;
        hashConst *= MultA;
        value *= hashConst;
        value ^= value >> XShift;
        return value;
    }

    private static uint Mix(uint x, uint y)
    {
        var result = (MixMultL * x) - (MixMultR * y);
        result ^= result >> XShift;
        return result;
    }
}
