namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// Where experiments and issued seeds are kept, as the rest of the daemon sees it. Every write
/// completes only once it is durable (committed and flushed to stable storage, by the backend's
/// own rules); reads (<see cref="Reader"/>) see only durable data. <see cref="SeedStore"/> is the one implementation: the
/// shared rules and group commit over an <see cref="IStoreBackend"/> (LiteDB or PostgreSQL).
/// </summary>
internal interface ISeedStore : IDisposable
{
    /// <summary>Where the data lives, for messages and logs (never a password).</summary>
    string Location { get; }

    /// <summary>False while the store cannot accept writes (shutting down, database down or full).</summary>
    bool IsWritable { get; }

    /// <summary>The group-commit writer is alive (even while the database is down and being reconnected).</summary>
    bool IsRunning { get; }

    /// <summary>After a refused start: closes, and removes what opening created (a new database file), so the start changed nothing.</summary>
    void DisposeAfterRefusedStart();

    /// <summary>Size and count figures for /metrics.</summary>
    StoreStatistics Statistics { get; }

    /// <summary>What is durable, read straight from the backend.</summary>
    IStoreReader Reader { get; }

    /// <summary>
    /// Stores <paramref name="candidate"/> unless the id exists. For an existing id: with
    /// <paramref name="rootGiven"/> and a different root this fails with ALREADY_EXISTS, otherwise
    /// the stored experiment is returned unchanged.
    /// </summary>
    Task<ExperimentRecord> CreateExperimentAsync(ExperimentRecord candidate, bool rootGiven, CancellationToken cancellationToken);

    Task<ExperimentRecord> FreezeExperimentAsync(string experimentId, CancellationToken cancellationToken);

    /// <summary>
    /// Records that each key was issued (new record, or issue count + 1) and appends one ledger
    /// event per key to its experiment's hash chain, all in one durable commit, all or nothing;
    /// returns the records in request order. A key never issued before on a frozen experiment
    /// fails the whole call with FAILED_PRECONDITION.
    /// </summary>
    Task<IReadOnlyList<SeedRecord>> RecordIssuesAsync(IReadOnlyList<SeedIssue> issues, RequestOrigin origin, CancellationToken cancellationToken);

    /// <summary>Records a process of a run (the first record of a process is kept; see <see cref="BatchPlanner"/>'s run rules).</summary>
    Task<ProcessRecord> RecordProcessAsync(ProcessRecord candidate, CancellationToken cancellationToken);

    /// <summary>Records one process's fingerprints, durably, in the same group commits as seeds.</summary>
    Task<FingerprintReceipt> ReportFingerprintsAsync(ProcessKey process, IReadOnlyList<StepFingerprint> steps, long nowUnixMs, CancellationToken cancellationToken);

    /// <summary>A consistent copy of the whole store in a new file on the daemon's host, while serving (embedded backend only).</summary>
    Task<BackupInfo> BackupAsync(string targetPath, CancellationToken cancellationToken);
}

/// <summary>What /metrics shows of the store: bytes on disk (or in the database), experiments, and the backend's own gauges.</summary>
internal sealed record StoreStatistics(long Bytes, long Experiments, IReadOnlyDictionary<string, double> Gauges);
