namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// One request's writes, waiting for a group commit. The planner decides each one's outcome; it is
/// completed only once the batch it belongs to is durable. A <see cref="SeedDaemonException"/> fails
/// the operation alone; any other failure of the batch fails every operation in it.
/// </summary>
internal abstract class StoreOperation
{
    /// <summary>True for operations that run outside any batch, with nothing else in flight (backup).</summary>
    public virtual bool RunsAlone => false;

    /// <summary>When the request handed it to the store (Stopwatch timestamp).</summary>
    internal long Submitted { get; set; }

    internal abstract void Fail(Exception error);

    /// <summary>Answers with what the planner accepted it with; called once its batch is durable.</summary>
    internal abstract void Complete();
}

internal abstract class StoreOperation<T> : StoreOperation
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _accepted;

    public Task<T> Completion => _completion.Task;

    /// <summary>What the operation answers once durable (a batch planned again replaces it).</summary>
    internal T Accept(T result) => _accepted = result;

    internal sealed override void Fail(Exception error) => _completion.TrySetException(error);

    internal sealed override void Complete() => _completion.TrySetResult(_accepted!);
}

/// <summary>Create an experiment, or find the one with this id (see <see cref="ISeedStore.CreateExperimentAsync"/>).</summary>
internal sealed class CreateExperimentOperation(ExperimentRecord candidate, bool rootGiven) : StoreOperation<ExperimentRecord>
{
    public ExperimentRecord Candidate { get; } = candidate;

    public bool RootGiven { get; } = rootGiven;
}

internal sealed class FreezeExperimentOperation(string experimentId) : StoreOperation<ExperimentRecord>
{
    public string ExperimentId { get; } = experimentId;
}

/// <summary>Record that these keys were issued to <see cref="Origin"/>, with one ledger event each.</summary>
internal sealed class RecordIssuesOperation(IReadOnlyList<SeedIssue> issues, RequestOrigin origin) : StoreOperation<IReadOnlyList<SeedRecord>>
{
    public IReadOnlyList<SeedIssue> Issues { get; } = issues;

    public RequestOrigin Origin { get; } = origin;
}

internal sealed class BackupOperation(string targetPath) : StoreOperation<BackupInfo>
{
    public override bool RunsAlone => true;

    public string TargetPath { get; } = targetPath;
}

/// <summary>Record a process of a run with its environment; the first record of a process is kept.</summary>
internal sealed class RecordProcessOperation(ProcessRecord candidate) : StoreOperation<ProcessRecord>
{
    public ProcessRecord Candidate { get; } = candidate;
}

/// <summary>Record one process's fingerprints at ascending steps (see RunService.ReportFingerprints).</summary>
internal sealed class ReportFingerprintsOperation(ProcessKey process, IReadOnlyList<StepFingerprint> steps, long startUnixMs) : StoreOperation<FingerprintReceipt>
{
    public ProcessKey Process { get; } = process;

    /// <summary>The time a process first seen in this report is recorded as started (Unix ms).</summary>
    public long StartUnixMs { get; } = startUnixMs;

    public IReadOnlyList<StepFingerprint> Steps { get; } = steps;
}
