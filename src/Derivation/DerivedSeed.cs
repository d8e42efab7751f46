namespace SeedDaemon.Derivation;

/// <summary>
/// One seedseq-v1 answer with what a NumPy user needs to rebuild it:
/// <c>SeedSequence(root, spawn_key=SpawnKey).generate_state(4) == State</c>.
/// </summary>
public readonly struct DerivedSeed
{
    private readonly Words4 _state;

    public DerivedSeed(uint worker, ulong seed64, int width, Words4 state, uint libraryTag, uint streamTag, bool hasStream)
    {
        Worker = worker;
        Seed64 = seed64;
        Width = width;
        _state = state;
        LibraryTag = libraryTag;
        StreamTag = streamTag;
        HasStream = hasStream;
    }

    public uint Worker { get; }

    /// <summary>The full 64-bit seed before truncation to the library's width.</summary>
    public ulong Seed64 { get; }

    public int Width { get; }

    /// <summary><see cref="Seed64"/> truncated to <see cref="Width"/> bits: what the library is given.</summary>
    public ulong Seed => Libraries.Truncate(Seed64, Width);

    public uint LibraryTag { get; }

    public uint StreamTag { get; }

    public bool HasStream { get; }

    public Words4 State => _state;

    public int SpawnKeyLength => HasStream ? 3 : 2;

    /// <summary>[worker, tag(library)] or [worker, tag(library), tag(stream)].</summary>
    public uint[] SpawnKey() => HasStream ? [Worker, LibraryTag, StreamTag] : [Worker, LibraryTag];

    public uint[] StateWords() => [_state[0], _state[1], _state[2], _state[3]];
}
