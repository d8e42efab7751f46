namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// The store every part of the daemon uses: writes go through the one <see cref="GroupCommitWriter"/>
/// to the backend (which plans them with <see cref="BatchPlanner"/>); reads go to the backend.
/// </summary>
internal sealed class SeedStore : ISeedStore
{
    private readonly IStoreBackend _backend;
    private readonly GroupCommitWriter _writer;
    private int _disposed;

    /// <param name="observer">Told the size and duration of every group commit and each write's wait (for metrics).</param>
    public SeedStore(IStoreBackend backend, int maxBatch, ILogger logger, IRecordingObserver? observer = null)
    {
        _backend = backend;
        _writer = new GroupCommitWriter(backend, maxBatch, logger, observer);
    }

    public string Location => _backend.Location;

    public bool IsWritable => _writer.IsRunning && _backend.IsWritable;

    public bool IsRunning => _writer.IsRunning;

    public StoreStatistics Statistics => _backend.Statistics;

    public IStoreReader Reader => _backend;

    public Task<ExperimentRecord> CreateExperimentAsync(ExperimentRecord candidate, bool rootGiven, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new CreateExperimentOperation(candidate, rootGiven), cancellationToken);

    public Task<ExperimentRecord> FreezeExperimentAsync(string experimentId, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new FreezeExperimentOperation(experimentId), cancellationToken);

    public Task<IReadOnlyList<SeedRecord>> RecordIssuesAsync(IReadOnlyList<SeedIssue> issues, RequestOrigin origin, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new RecordIssuesOperation(issues, origin), cancellationToken);

    public Task<ProcessRecord> RecordProcessAsync(ProcessRecord candidate, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new RecordProcessOperation(candidate), cancellationToken);

    public Task<FingerprintReceipt> ReportFingerprintsAsync(ProcessKey process, IReadOnlyList<StepFingerprint> steps, long nowUnixMs, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new ReportFingerprintsOperation(process, steps, nowUnixMs), cancellationToken);

    public Task<BackupInfo> BackupAsync(string targetPath, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new BackupOperation(targetPath), cancellationToken);

    public void DisposeAfterRefusedStart()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _writer.Dispose();
            _backend.DisposeAfterRefusedStart();
        }
    }

    /// <summary>Finishes the writes in flight, then closes the backend (the embedded one checkpoints).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _writer.Dispose();
        }
        finally
        {
            _backend.Dispose();
        }
    }
}
