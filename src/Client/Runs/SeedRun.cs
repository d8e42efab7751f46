using Grpc.Core;
using Microsoft.Extensions.Logging;
using SeedDaemon.Client.Proofs;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Client;

/// <summary>Where a resumed process continues from: the run and the step of its checkpoint.</summary>
public sealed record RunResumePoint(string RunId, long Step);

/// <summary>The state a resumed process restored is not the one the original run recorded at that step.</summary>
public sealed class RunResumeException(string message) : Exception(message);

/// <summary>
/// One process of one run (docs/runs.md). <see cref="Fingerprint"/> takes the digests it is given and
/// returns at once; a background task sends them in batches. The queue is bounded: when it is full the
/// oldest step is dropped, counted (<see cref="Dropped"/>) and logged, never silently. An unreachable
/// daemon is logged once and retried; training goes on. Disposing flushes (up to a minute).
/// </summary>
public sealed class SeedRun : IAsyncDisposable, IDisposable
{
    public const int DefaultQueueSize = 10_000;
    private const int MaxStepsPerReport = 1000;

    private readonly SeedClient _client;
    private readonly ILogger _logger;
    private readonly LinkedList<StepFingerprint> _queue = new();
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sender;
    private readonly RecordProcessRequest _process;
    private readonly int _maxMessageBytes;
    private long? _lastStep;
    private int _inFlight;
    private bool _closed;

    internal SeedRun(SeedClient client, string experimentId, uint worker, string runId, IReadOnlyDictionary<string, string> environment, RunResumePoint? resumedFrom, int queueSize, int maxMessageBytes, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queueSize, 1);
        if (!KeyRules.IsValidExperimentId(runId))
        {
            throw new ArgumentException($"run id '{runId}' must match ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,127}}$ (as an experiment id)", nameof(runId));
        }

        foreach (var key in environment.Keys.Where(k => !KeyRules.IsValidLabelKey(k)))
        {
            throw new ArgumentException($"environment key '{key}' must match ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,62}}$", nameof(environment));
        }

        _maxMessageBytes = maxMessageBytes;
        _client = client;
        _logger = logger;
        ExperimentId = experimentId;
        Worker = worker;
        RunId = runId;
        ResumedFrom = resumedFrom;
        QueueSize = queueSize;
        _process = new RecordProcessRequest { ExperimentId = experimentId, RunId = runId, Worker = worker };
        foreach (var (key, value) in environment)
        {
            _process.Environment[key] = value.Length > 256 ? value[..256] : value;
        }

        if (resumedFrom is not null)
        {
            _process.ResumedFrom = new ResumePoint { RunId = resumedFrom.RunId, Step = resumedFrom.Step };
        }

        _sender = Task.Run(SendLoopAsync);
    }

    public string ExperimentId { get; }

    public uint Worker { get; }

    public string RunId { get; }

    public RunResumePoint? ResumedFrom { get; }

    public int QueueSize { get; }

    /// <summary>Steps dropped because the queue was full.</summary>
    public long Dropped { get; private set; }

    /// <summary>Steps seedd acknowledged.</summary>
    public long Sent { get; private set; }

    /// <summary>Steps seedd refused (bad input; logged).</summary>
    public long Rejected { get; private set; }

    /// <summary>
    /// The experiment's signed checkpoint, fetched and verified when the run is disposed (null before,
    /// or when it could not be had: logged): a few hundred bytes a tracker keeps (MLflow, W&amp;B) to pin
    /// every seed the run used (docs/audit.md, the transparency log).
    /// </summary>
    public LedgerCheckpoint? Checkpoint { get; private set; }

    /// <summary>
    /// Queues the digests of step <paramref name="step"/> (0 or more, above the last one), taken by the
    /// caller now. The Torch package's <c>Fingerprint(step, seeded, values)</c> takes every generator's and the values' digests.
    /// </summary>
    public void Fingerprint(long step, IEnumerable<Digest> digests)
    {
        ArgumentNullException.ThrowIfNull(digests);
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        var entry = new StepFingerprint { Step = step };
        entry.Digests.AddRange(digests);
        if (entry.Digests.Count == 0)
        {
            throw new ArgumentException("a fingerprint needs at least one digest", nameof(digests));
        }

        // What the daemon would refuse for the whole report is refused here, at once, naming the digest.
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var digest in entry.Digests)
        {
            if (!KeyRules.IsValidName(digest.Name) || !names.Add(digest.Name))
            {
                throw new ArgumentException($"digest name '{digest.Name}' must match ^[a-z0-9][a-z0-9._-]{{0,63}}$ and be unique within a step (say 'loss', 'val.loss', 'model')", nameof(digests));
            }
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_lastStep is { } last && step <= last)
            {
                throw new ArgumentOutOfRangeException(nameof(step), step, $"step {step} is not above the last step fingerprinted ({last}): steps go up within a run");
            }

            _lastStep = step;
            if (_queue.Count >= QueueSize)
            {
                _queue.RemoveFirst();
                Dropped++;
                if (Dropped == 1 || Dropped % 1000 == 0)
                {
                    ClientLog.QueueFull(_logger, RunId, QueueSize, Dropped);
                }
            }

            _queue.AddLast(entry);
        }

        _wake.Release();
    }

    /// <summary>
    /// The resume check: compares <paramref name="restored"/> (generator name → digest, as the Torch
    /// package's <c>CheckRestoredAsync(RngState)</c> gives it) with the fingerprint the original run
    /// recorded at <paramref name="step"/> (default: <see cref="ResumedFrom"/>'s). With <paramref name="current"/>
    /// (this process's generators now), a generator in both that is not the restored one differs too: a state
    /// loaded but never restored, or drawn from since. Throws <see cref="RunResumeException"/> when any
    /// differs and <paramref name="throwOnMismatch"/>; returns the names that differ.
    /// </summary>
    public async Task<IReadOnlyList<string>> CheckRestoredAsync(IReadOnlyDictionary<string, byte[]> restored, long? step = null, bool throwOnMismatch = true, IReadOnlyDictionary<string, byte[]>? current = null, CancellationToken cancellationToken = default)
    {
        var (original, at) = ResumedFrom is { } point ? (point.RunId, step ?? point.Step)
            : step is { } given ? (RunId, given)
            : throw new InvalidOperationException("CheckRestoredAsync needs resumedFrom at StartRun, or a step");
        StepFingerprint recorded;
        try
        {
            recorded = await _client.CallRunsAsync((runs, o) => runs.GetFingerprintAsync(new GetFingerprintRequest { ExperimentId = ExperimentId, RunId = original, Worker = Worker, Step = at }, o).ResponseAsync, cancellationToken);
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.NotFound)
        {
            throw new RunResumeException($"run '{original}' recorded no fingerprint for worker {Worker} at step {at}: nothing to check the restored state against ({error.Status.Detail})");
        }

        var theirs = recorded.Digests.Where(d => d.Kind == DigestKind.Generator).ToList();
        if (!theirs.Any(d => restored.ContainsKey(d.Name)))
        {
            throw new RunResumeException($"run '{original}' recorded no generator of worker {Worker} at step {at} that this process has (recorded: {string.Join(", ", theirs.Select(d => d.Name))}; here: {string.Join(", ", restored.Keys)}): nothing to check");
        }

        // A generator the original had and this process did not restore differs too.
        var differing = theirs
            .Where(d => !restored.TryGetValue(d.Name, out var mine) || !d.Value.Span.SequenceEqual(mine))
            .Select(d => d.Name).Order(StringComparer.Ordinal).ToList();
        var notRestored = restored
            .Where(p => current is not null && current.TryGetValue(p.Key, out var now) && !now.AsSpan().SequenceEqual(p.Value))
            .Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
        var problems = new List<string>();
        if (differing.Count > 0)
        {
            problems.Add($"the restored state is not the one run '{original}' had at step {at} (worker {Worker}): {string.Join(", ", differing)} differ");
        }

        if (notRestored.Count > 0)
        {
            problems.Add($"this process's {string.Join(", ", notRestored)} {(notRestored.Count == 1 ? "is" : "are")} not the state checked: restore it (RngState.Restore) before the check, and draw nothing in between");
        }

        if (problems.Count > 0 && throwOnMismatch)
        {
            throw new RunResumeException($"{string.Join("; ", problems)}. The rerun will not reproduce it from there.");
        }

        return [.. differing.Union(notRestored).Order(StringComparer.Ordinal)];
    }

    /// <summary>The check as the SDK before <c>current</c> had it (kept for code built against that).</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public Task<IReadOnlyList<string>> CheckRestoredAsync(IReadOnlyDictionary<string, byte[]> restored, long? step, bool throwOnMismatch, CancellationToken cancellationToken) =>
        CheckRestoredAsync(restored, step, throwOnMismatch, current: null, cancellationToken);

    /// <summary>Waits until every queued step is sent, or <paramref name="timeout"/>; true when the queue is empty.</summary>
    public async Task<bool> FlushAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !_sender.IsCompleted)
        {
            lock (_gate)
            {
                if (_queue.Count == 0 && _inFlight == 0)
                {
                    return true;
                }
            }

            await Task.Delay(10);
        }

        lock (_gate)
        {
            return _queue.Count == 0 && _inFlight == 0;
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }
        }

        await FlushAsync(TimeSpan.FromMinutes(1));
        int left;
        lock (_gate)
        {
            _closed = true;
            left = _queue.Count + _inFlight;
        }

        await _stop.CancelAsync();
        _wake.Release();
        try
        {
            await _sender.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
        }

        if (left > 0 || Dropped > 0)
        {
            ClientLog.RunClosedWithLoss(_logger, RunId, left, Dropped);
        }

        // Training is over: a missing checkpoint is said, never a failure of the job.
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            Checkpoint = await _client.GetCheckpointAsync(ExperimentId, deadline.Token);
        }
        catch (Exception error) when (error is RpcException or SeedVerificationException or OperationCanceledException)
        {
            ClientLog.NoCheckpointAtClose(_logger, RunId, ExperimentId, error.Message);
        }

        _stop.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task SendLoopAsync()
    {
        await SendAsync("RecordProcess", (runs, o) => runs.RecordProcessAsync(_process, o).ResponseAsync, 0);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var batch = new List<StepFingerprint>();
            lock (_gate)
            {
                while (_queue.First is { } first && batch.Count < MaxStepsPerReport)
                {
                    batch.Add(first.Value);
                    _queue.RemoveFirst();
                }

                _inFlight = batch.Count;
            }

            foreach (var request in Requests(batch))
            {
                await SendAsync("ReportFingerprints", (runs, o) => runs.ReportFingerprintsAsync(request, o).ResponseAsync, request.Steps.Count);
            }

            lock (_gate)
            {
                _inFlight = 0;
            }
        }
    }

    /// <summary>The batch as reports within the daemon's message size (<see cref="SeedClientOptions.MaxMessageBytes"/>).</summary>
    private IEnumerable<ReportFingerprintsRequest> Requests(List<StepFingerprint> batch)
    {
        var budget = Math.Max(1024, _maxMessageBytes - 1024);
        var request = new ReportFingerprintsRequest { ExperimentId = ExperimentId, RunId = RunId, Worker = Worker };
        var size = request.CalculateSize();
        foreach (var step in batch)
        {
            var stepSize = step.CalculateSize() + 8;
            if (request.Steps.Count > 0 && size + stepSize > budget)
            {
                yield return request;
                request = new ReportFingerprintsRequest { ExperimentId = ExperimentId, RunId = RunId, Worker = Worker };
                size = request.CalculateSize();
            }

            request.Steps.Add(step);
            size += stepSize;
        }

        if (request.Steps.Count > 0)
        {
            yield return request;
        }
    }

    /// <summary>Sends until answered; a refusal (bad input) is logged and the request dropped.</summary>
    private async Task SendAsync<T>(string method, Func<RunService.RunServiceClient, Grpc.Core.CallOptions, Task<T>> call, int steps)
    {
        var logged = false;
        while (true)
        {
            try
            {
                var answer = await _client.CallRunsAsync(call, CancellationToken.None);
                Sent += steps;
                if (answer is ReportFingerprintsResponse report && report.Repeats + report.Conflicts > 0)
                {
                    ClientLog.RunIdReused(_logger, RunId, $"seedd already had {report.Repeats + report.Conflicts} of these {steps} step(s) ({report.Conflicts} with other digests, kept out)");
                }
                else if (answer is RunProcess process && process.Environment.GetValueOrDefault("pid") != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
                {
                    ClientLog.RunIdReused(_logger, RunId, $"worker {Worker} was recorded before, by pid {process.Environment.GetValueOrDefault("pid") ?? "?"} on {process.Environment.GetValueOrDefault("host") ?? "?"}");
                }

                return;
            }
            catch (RpcException error) when (error.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                if (!logged)
                {
                    ClientLog.RunNotAnswering(_logger, RunId, error.Status.Detail);
                    logged = true;
                }

                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromSeconds(1));
            }
            catch (RpcException error)
            {
                Rejected += steps;
                ClientLog.RunRefused(_logger, RunId, method, $"{error.StatusCode}: {error.Status.Detail}");
                return;
            }
        }
    }
}
