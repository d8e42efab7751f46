using System.Collections.Concurrent;
using System.Diagnostics;

namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// The one thread that writes. It takes every operation waiting at that moment (up to a bound) and
/// hands them to the backend as one batch: one transaction, one durable commit (one fsync, or one
/// PostgreSQL commit); only then are they answered. A lone operation never waits for company.
/// </summary>
internal sealed class GroupCommitWriter : IDisposable
{
    private readonly IStoreBackend _backend;
    private readonly int _maxBatch;
    private readonly ILogger _logger;
    private readonly IRecordingObserver? _observer;
    // Lock-free: every request handler adds to it. The writer sleeps on the signal without spinning
    // (a spinning writer and a locked queue cost more CPU than a whole health check).
    private readonly ConcurrentQueue<StoreOperation> _queue = new();
    private readonly ManualResetEventSlim _signal = new(initialState: false, spinCount: 0);
    private readonly Thread _thread;
    private volatile bool _closed;

    public GroupCommitWriter(IStoreBackend backend, int maxBatch, ILogger logger, IRecordingObserver? observer)
    {
        _backend = backend;
        _maxBatch = maxBatch;
        _logger = logger;
        _observer = observer;
        _thread = new Thread(Run) { IsBackground = true, Name = "seedd-group-commit" };
        _thread.Start();
    }

    public bool IsRunning => _thread.IsAlive && !_closed;

    public Task<T> SubmitAsync<T>(StoreOperation<T> operation, CancellationToken cancellationToken)
    {
        if (_closed)
        {
            throw new SeedDaemonException(ErrorKind.Unavailable, "seedd is shutting down; retry against a running daemon.");
        }

        operation.Submitted = Stopwatch.GetTimestamp();
        _queue.Enqueue(operation);
        try
        {
            _signal.Set();
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile: Dispose fails what it finds queued.
        }

        // Once queued the write goes ahead; cancelling only stops the wait.
        return operation.Completion.WaitAsync(cancellationToken);
    }

    /// <summary>Stops taking operations, finishes those queued, and waits for the thread.</summary>
    public void Dispose()
    {
        _closed = true;
        _signal.Set();
        _thread.Join();

        // Queued in the moment between the check in SubmitAsync and the close: refused, not lost.
        while (_queue.TryDequeue(out var late))
        {
            late.Fail(new SeedDaemonException(ErrorKind.Unavailable, "seedd is shutting down; retry against a running daemon."));
        }

        _signal.Dispose();
    }

    /// <summary>Waits until an operation is queued; false once closed with nothing left.</summary>
    private bool WaitForWork()
    {
        while (_queue.IsEmpty)
        {
            if (_closed)
            {
                return false;
            }

            // Reset, then look again: an operation queued in between has set the signal after being queued.
            _signal.Reset();
            if (_queue.IsEmpty && !_closed)
            {
                _signal.Wait();
            }
        }

        return true;
    }

    private void Run()
    {
        var batch = new List<StoreOperation>(_maxBatch);
        while (WaitForWork())
        {
            batch.Clear();
            StoreOperation? alone = null;
            while (batch.Count < _maxBatch && _queue.TryDequeue(out var operation))
            {
                if (operation.RunsAlone)
                {
                    alone = operation;
                    break;
                }

                batch.Add(operation);
            }

            if (batch.Count > 0)
            {
                Commit(batch);
            }

            if (alone is BackupOperation backup)
            {
                RunAlone(backup, () => _backend.Backup(backup.TargetPath));
            }

            if (_queue.IsEmpty)
            {
                RunAlone(null, () =>
                {
                    _backend.Idle();
                    return true;
                });
            }
        }
    }

    /// <summary>Hands the batch to the backend; its operations are answered when the backend says it is durable.</summary>
    private void Commit(List<StoreOperation> batch)
    {
        var started = Stopwatch.GetTimestamp();
        var operations = batch.ToArray();
        Task<PreparedBatch> durable;
        try
        {
            durable = _backend.Commit(operations);
        }
        catch (Exception error)
        {
            Settle(operations, null, error, started);
            return;
        }

        if (durable.IsCompleted)
        {
            Settle(operations, durable.IsCompletedSuccessfully ? durable.Result : null, durable.Exception?.InnerException, started);
        }
        else
        {
            durable.ContinueWith(
                done => Settle(operations, done.IsCompletedSuccessfully ? done.Result : null, done.Exception?.InnerException, started),
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private void Settle(StoreOperation[] operations, PreparedBatch? prepared, Exception? error, long started)
    {
        if (prepared is null)
        {
            error ??= new InvalidOperationException("the backend completed a batch without a result");
            RecordingLog.BatchFailed(_logger, operations.Length, error);
            foreach (var operation in operations)
            {
                operation.Fail(error);
            }

            return;
        }

        foreach (var operation in prepared.Accepted)
        {
            operation.Complete();
        }

        foreach (var (operation, refused) in prepared.Rejections)
        {
            operation.Fail(refused);
        }

        if (_observer is { } observer)
        {
            observer.Committed(operations.Length, Stopwatch.GetElapsedTime(started));
            foreach (var operation in operations)
            {
                observer.Answered(Stopwatch.GetElapsedTime(operation.Submitted));
            }
        }
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            RecordingLog.BatchCommitted(_logger, operations.Length, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private void RunAlone<T>(StoreOperation<T>? operation, Func<T> run)
    {
        try
        {
            var result = run();
            if (operation is not null)
            {
                operation.Accept(result);
                operation.Complete();
            }
        }
        catch (Exception error)
        {
            if (operation is null)
            {
                RecordingLog.UpkeepFailed(_logger, error);
            }
            else
            {
                operation.Fail(error);
            }
        }
    }
}
