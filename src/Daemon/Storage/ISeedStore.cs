namespace SeedDaemon.Daemon.Storage;

/// <summary>
/// Where experiments and issued seeds are kept. Every write completes only once it is durable
/// (committed and flushed to stable storage); reads see only durable data. LiteDB is the embedded
/// implementation; a replicated one can sit behind the same interface.
/// </summary>
public interface ISeedStore : IDisposable
{
    /// <summary>Where the data lives, for messages and logs.</summary>
    string Location { get; }

    /// <summary>False once the store can no longer accept writes (shutting down, writer stopped, database down).</summary>
    bool IsWritable { get; }

    /// <summary>Bytes on disk (database file and log).</summary>
    long SizeBytes { get; }

    /// <summary>The writer is alive (even if the database is down, e.g. on a full disk, and will be reopened).</summary>
    bool IsRunning { get; }

    ExperimentRecord? FindExperiment(string experimentId);

    int ExperimentCount { get; }

    /// <summary>Experiments ordered by id (ordinal), after <paramref name="afterId"/> when given.</summary>
    IReadOnlyList<ExperimentRecord> ListExperiments(string? afterId, int limit);

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

    /// <summary>
    /// Writes a consistent copy of the whole store to <paramref name="targetPath"/> (a new file on
    /// the daemon's host) while serving; the copy can be opened as a database.
    /// </summary>
    Task<BackupInfo> BackupAsync(string targetPath, CancellationToken cancellationToken);

    /// <summary>Issued seeds of one experiment in (worker, library, stream) order, after <paramref name="afterKey"/>.</summary>
    IReadOnlyList<SeedRecord> ListSeeds(string experimentId, SeedCursor? afterKey, int limit);

    SeedRecord? FindSeed(string experimentId, uint worker, string library, string stream);

    /// <summary>Ledger events of one experiment in chain order, with sequence above <paramref name="afterSequence"/>.</summary>
    IReadOnlyList<LedgerRecord> ListEvents(string experimentId, ulong afterSequence, int limit);

    /// <summary>The chain head as the experiment record keeps it.</summary>
    ChainHead GetChainHead(string experimentId);
}

/// <summary>A position in an experiment's issued seeds.</summary>
public readonly record struct SeedCursor(uint Worker, string Library, string Stream);
