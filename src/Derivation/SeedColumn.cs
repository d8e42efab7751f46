namespace SeedDaemon.Derivation;

/// <summary>
/// One (root, library, stream) column with everything that does not depend on the worker
/// computed once: the tags, the width, the permutation keys and the SeedSequence pool after the
/// root words have been mixed in. Immutable and safe to share between threads.
/// </summary>
public sealed class SeedColumn
{
    private readonly Words4 _rootPool;
    private readonly uint _rootHashConst;
    private readonly Words4 _permutationKeys;

    private SeedColumn(UInt128 root, string library, string stream)
    {
        Root = root;
        Library = library;
        Stream = stream;
        Width = Libraries.WidthOf(library);
        LibraryTag = SeedSeqV1.Tag(library);
        StreamTag = stream.Length == 0 ? 0 : SeedSeqV1.Tag(stream);

        // Spawn keys are never empty here, so NumPy pads the root to exactly four words: the pool
        // after those four words is the same for every worker of the column.
        Span<uint> rootWords = stackalloc uint[SeedSequence.PoolSize];
        SeedSequence.AssembleEntropy(root, [], rootWords);
        var rootWordCount = RootWordCount(root);
        rootWords[rootWordCount..].Clear();
        _rootHashConst = SeedSequence.MixFirstWords(rootWords, _rootPool);

        var keyPool = _rootPool;
        var hashConst = _rootHashConst;
        MixSpawnKey(ref keyPool, ref hashConst, KeyRules.ReservedWorker);
        SeedSequence.GenerateState(keyPool, _permutationKeys);
    }

    public UInt128 Root { get; }

    public string Library { get; }

    public string Stream { get; }

    public int Width { get; }

    public uint LibraryTag { get; }

    /// <summary>Zero and unused when <see cref="Stream"/> is empty.</summary>
    public uint StreamTag { get; }

    public bool HasStream => Stream.Length != 0;

    /// <summary>The column's spawn-key suffix length: 1 without a stream, 2 with one.</summary>
    public int ColumnWords => HasStream ? 2 : 1;

    public Words4 PermutationKeys => _permutationKeys;

    /// <summary>Validates the column's names and precomputes it.</summary>
    public static SeedColumn Create(UInt128 root, string library, string stream)
    {
        if (!KeyRules.IsValidName(library))
        {
            throw new ArgumentException($"Library '{library}' does not match ^[a-z0-9][a-z0-9._-]{{0,63}}$.", nameof(library));
        }

        if (!KeyRules.IsValidStream(stream))
        {
            throw new ArgumentException($"Stream '{stream}' must be empty or match ^[a-z0-9][a-z0-9._-]{{0,63}}$.", nameof(stream));
        }

        return new SeedColumn(root, library, stream);
    }

    /// <summary>The seed of <paramref name="worker"/> in this column. No allocation.</summary>
    public DerivedSeed Derive(uint worker)
    {
        if (!KeyRules.IsValidWorker(worker))
        {
            throw new ArgumentOutOfRangeException(nameof(worker), worker, "Worker 0xFFFFFFFF is reserved.");
        }

        var pool = _rootPool;
        var hashConst = _rootHashConst;
        MixSpawnKey(ref pool, ref hashConst, worker);
        var state = default(Words4);
        SeedSequence.GenerateState(pool, state);
        var seed64 = SeedSeqV1.Combine(state, SeedSeqV1.Permute(_permutationKeys, worker));
        return new DerivedSeed(worker, seed64, Width, state, LibraryTag, StreamTag, HasStream);
    }

    private void MixSpawnKey(ref Words4 pool, ref uint hashConst, uint worker)
    {
        SeedSequence.MixWord(pool, ref hashConst, worker);
        SeedSequence.MixWord(pool, ref hashConst, LibraryTag);
        if (HasStream)
        {
            SeedSequence.MixWord(pool, ref hashConst, StreamTag);
        }
    }

    private static int RootWordCount(UInt128 root)
    {
        var count = 1;
        while ((root >>= 32) != UInt128.Zero)
        {
            count++;
        }

        return count;
    }
}
