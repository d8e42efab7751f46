using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// What one group commit writes, as the planner decided it: every experiment it creates, freezes or
/// appends to (as it is after the batch), each experiment's appended ledger events, and the final
/// state of every key the batch issued. A backend persists all of it in one transaction.
/// </summary>
internal sealed class PreparedBatch(int expectedKeys = 0)
{
    /// <summary>How many keys the batch's operations ask for (with repeats): what its collections are sized for.</summary>
    public int ExpectedKeys { get; } = expectedKeys;

    /// <summary>The experiments the batch changes, by id, each as it is after the batch.</summary>
    public Dictionary<string, ExperimentState> Experiments { get; } = new(StringComparer.Ordinal);

    /// <summary>The entries placed in each experiment's log by this batch (the embedded store integrates in its group commit).</summary>
    public List<ChainAppend> Appends { get; } = [];

    /// <summary>The entries the batch made durable without a place yet, per experiment (PostgreSQL: its sequencer places them).</summary>
    public List<PendingAppend> Pending { get; } = [];

    /// <summary>The keys the batch issues, by key, each as it is after the batch.</summary>
    public Dictionary<SeedKey, KeyChange> Keys { get; } = new(expectedKeys, KeyComparer.Instance);

    /// <summary>The processes of runs the batch records or reports for, each as it is after the batch.</summary>
    public Dictionary<ProcessKey, ProcessRecord> Processes { get; } = [];

    /// <summary>The fingerprints the batch records (new steps only: a repeat or a conflict changes its process alone).</summary>
    public Dictionary<(ProcessKey Process, long Step), StepFingerprint> Fingerprints { get; } = [];

    /// <summary>For each fingerprint recorded, its process's step before it (-1 for its first): a backend may link them, so a lost one is found.</summary>
    public Dictionary<(ProcessKey Process, long Step), long> PreviousSteps { get; } = [];

    /// <summary>Nothing to write: every key issued adds an entry, every fingerprint changes its process.</summary>
    public bool IsEmpty => Experiments.Count == 0 && Pending.Count == 0 && Processes.Count == 0;

    /// <summary>Each accepted operation, holding what it answers once the batch is durable (<see cref="StoreOperation{T}.Accept"/>).</summary>
    internal List<StoreOperation> Accepted { get; } = [];

    /// <summary>Each refused operation with its error, answered once the batch is settled.</summary>
    internal List<(StoreOperation Operation, SeedDaemonException Error)> Rejections { get; } = [];
}

/// <summary>
/// The events a batch appends to one experiment's chain, from <see cref="Before"/> to <see cref="After"/>,
/// and to its tree: the stored-level subtrees they complete (<see cref="Nodes"/>).
/// </summary>
internal sealed class ChainAppend(string experimentId, ChainHead before, byte[] beforeHash, int expectedEvents = 0)
{
    /// <summary>The roots of the perfect subtrees of 2^8, 2^16, ... leaves the events complete, as <see cref="MerkleFrontier.Append"/> handed them out.</summary>
    public List<TreeNode> Nodes { get; } = [];

    public string ExperimentId { get; } = experimentId;

    public ChainHead Before { get; } = before;

    public ChainHead After { get; internal set; } = before;

    /// <summary>The tree after the events (of <see cref="After"/>'s size).</summary>
    public MerkleFrontier Tree { get; internal set; } = null!;

    /// <summary>The hash of the event before the first appended one (32 bytes; zeros for the first event ever).</summary>
    public byte[] BeforeHash { get; } = beforeHash;

    /// <summary>Who asked and when, once per request; events refer to it by index.</summary>
    public List<EventRun> Runs { get; } = [];

    public List<PreparedEvent> Events { get; } = new(expectedEvents);

    /// <summary>The hash the event at <paramref name="index"/> of <see cref="Events"/> chains to.</summary>
    public byte[] PreviousHash(int index) => index == 0 ? BeforeHash : Events[index - 1].Hash;
}

/// <summary>The time (Unix ms) and origin a request's events share.</summary>
internal sealed record EventRun(long TimeUnixMs, RequestOrigin Origin);

/// <summary>One appended event: its place in the chain, its key, the seed returned, and its own hash (32 bytes).</summary>
internal readonly record struct PreparedEvent(ulong Sequence, int Run, uint Worker, string Library, string Stream, ulong Seed64, byte[] Hash);

/// <summary>An issued key after the batch: new (its first issue is this batch), or an existing one asked for again.</summary>
internal sealed class KeyChange(SeedKey key, KeyState state, bool isNew)
{
    public SeedKey Key { get; } = key;

    public KeyState State { get; internal set; } = state;

    public bool IsNew { get; } = isNew;
}

/// <summary>
/// Keys of one batch by value. The hash reads the worker and the strings' lengths and first
/// characters, not every character: a batch of 1,000 keys would otherwise hash 3,000 strings.
/// Keys that share it still differ in <see cref="Equals"/>, which compares every part.
/// </summary>
internal sealed class KeyComparer : IEqualityComparer<SeedKey>
{
    public static readonly KeyComparer Instance = new();

    public bool Equals(SeedKey x, SeedKey y) =>
        x.Worker == y.Worker && string.Equals(x.Library, y.Library, StringComparison.Ordinal)
        && string.Equals(x.Stream, y.Stream, StringComparison.Ordinal) && string.Equals(x.ExperimentId, y.ExperimentId, StringComparison.Ordinal);

    public int GetHashCode(SeedKey key) =>
        HashCode.Combine(key.Worker, Sketch(key.Library), Sketch(key.Stream), Sketch(key.ExperimentId));

    private static int Sketch(string text) => text.Length == 0 ? 0 : (text.Length << 16) ^ (text[0] << 8) ^ text[^1];
}
