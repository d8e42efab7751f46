namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// Where experiments and issued seeds are kept, as the rest of the daemon sees it. Every write
/// completes only once it is durable (committed and flushed to stable storage, by the backend's
/// own rules); reads see only durable data. <see cref="SeedStore"/> is the one implementation: the
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

    /// <summary>An experiment as it is now (a replicated backend reads the database).</summary>
    ValueTask<ExperimentRecord?> FindExperimentAsync(string experimentId, CancellationToken cancellationToken);

    /// <summary>The experiment's immutable part (root, scheme) for deriving seeds; may be cached.</summary>
    ValueTask<ExperimentRecord?> FindExperimentForIssueAsync(string experimentId, CancellationToken cancellationToken);

    /// <summary>Experiments ordered by id (ordinal), after <paramref name="afterId"/> when given.</summary>
    ValueTask<IReadOnlyList<ExperimentRecord>> ListExperimentsAsync(string? afterId, int limit, CancellationToken cancellationToken);

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

    /// <summary>A consistent copy of the whole store in a new file on the daemon's host, while serving (embedded backend only).</summary>
    Task<BackupInfo> BackupAsync(string targetPath, CancellationToken cancellationToken);

    /// <summary>Issued seeds of one experiment in (worker, library, stream) order, after <paramref name="afterKey"/>.</summary>
    ValueTask<IReadOnlyList<SeedRecord>> ListSeedsAsync(string experimentId, SeedCursor? afterKey, int limit, CancellationToken cancellationToken);

    ValueTask<SeedRecord?> FindSeedAsync(string experimentId, uint worker, string library, string stream, CancellationToken cancellationToken);

    /// <summary>Ledger events of one experiment in chain order, with sequence above <paramref name="afterSequence"/>.</summary>
    ValueTask<IReadOnlyList<LedgerRecord>> ListEventsAsync(string experimentId, ulong afterSequence, int limit, CancellationToken cancellationToken);

    /// <summary>The chain head as the experiment record keeps it.</summary>
    ValueTask<ChainHead> GetChainHeadAsync(string experimentId, CancellationToken cancellationToken);
}

/// <summary>A position in an experiment's issued seeds.</summary>
internal readonly record struct SeedCursor(uint Worker, string Library, string Stream);

/// <summary>What /metrics shows of the store: bytes on disk (or in the database), experiments, and the backend's own gauges.</summary>
internal sealed record StoreStatistics(long Bytes, long Experiments, IReadOnlyDictionary<string, double> Gauges);
