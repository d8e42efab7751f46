namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>When the embedded backend checkpoints its issued keys (see <see cref="LiteDbBackend"/>).</summary>
internal sealed record LiteDbCheckpoints
{
    /// <summary>Checkpoint when idle once this many ledger events came since the last one.</summary>
    public long IdleEvents { get; init; } = 65_536;

    /// <summary>Checkpoint when idle at least this often while anything changed.</summary>
    public TimeSpan IdleInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Checkpoint even under load once this many events came since the last one (bounds the replay at the next open).</summary>
    public long HardEvents { get; init; } = 1_048_576;

    /// <summary>Copy LiteDB's log into the data file when idle once the log holds this much.</summary>
    public long IdleLogBytes { get; init; } = 8 << 20;

    /// <summary>... and even under load once it holds this much.</summary>
    public long HardLogBytes { get; init; } = 64 << 20;
}
