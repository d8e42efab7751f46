namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// A place to keep the records: LiteDB (embedded, one process) or PostgreSQL (several replicas).
/// A backend does not decide anything: in <see cref="Commit"/> it hands the operations and the state
/// it holds (locked against other writers where there are any) to <see cref="BatchPlanner"/>, which
/// applies the issuance rules and appends the ledger chains, then persists what the planner prepared
/// in one transaction and makes it durable. Storage failures leave as <see cref="SeedDaemonException"/>s
/// (UNAVAILABLE, RESOURCE_EXHAUSTED) with the backend's own words.
/// </summary>
internal interface IStoreBackend : IStoreReader, IDisposable
{
    /// <summary>Where the data lives, for messages and logs (never a password).</summary>
    string Location { get; }

    /// <summary>False while the database cannot be written (down, full, not yet reachable).</summary>
    bool IsWritable { get; }

    StoreStatistics Statistics { get; }

    /// <summary>
    /// One group commit: plans <paramref name="operations"/> with <see cref="BatchPlanner.Plan"/> against
    /// the backend's state, writes what was prepared, and returns a task that completes once it is
    /// durable (at once for PostgreSQL, whose COMMIT is durable; after the fsync for LiteDB, whose
    /// next batch may be planned and written meanwhile: the backend then plans it against an
    /// <see cref="OverlayState"/>). Called by the one group-commit thread only. Throws, or faults the
    /// task, when the database fails: then nothing the operations answer is returned.
    /// </summary>
    Task<PreparedBatch> Commit(IReadOnlyList<StoreOperation> operations);

    /// <summary>A consistent copy of the store in a new file (on the group-commit thread, with no batch in flight).</summary>
    BackupInfo Backup(string targetPath);

    /// <summary>After a refused start: closes, and removes what opening created (a new database file), so the start changed nothing.</summary>
    void DisposeAfterRefusedStart();

    /// <summary>Called on the group-commit thread once it is idle after a commit: time for upkeep (checkpoints).</summary>
    void Idle();
}
