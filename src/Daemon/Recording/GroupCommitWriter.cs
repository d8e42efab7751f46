using System.Diagnostics;
using System.Threading.Channels;

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
    private readonly Action<int, TimeSpan>? _committed;
    private readonly Channel<StoreOperation> _queue = Channel.CreateUnbounded<StoreOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;

    public GroupCommitWriter(IStoreBackend backend, int maxBatch, ILogger logger, Action<int, TimeSpan>? committed)
    {
        _backend = backend;
        _maxBatch = maxBatch;
        _logger = logger;
        _committed = committed;
        _thread = new Thread(Run) { IsBackground = true, Name = "seedd-group-commit" };
        _thread.Start();
    }

    public bool IsRunning => _thread.IsAlive && !_queue.Reader.Completion.IsCompleted;

    public Task<T> SubmitAsync<T>(StoreOperation<T> operation, CancellationToken cancellationToken)
    {
        if (!_queue.Writer.TryWrite(operation))
        {
            throw new SeedDaemonException(ErrorKind.Unavailable, "seedd is shutting down; retry against a running daemon.");
        }

        // Once queued the write goes ahead; cancelling only stops the wait.
        return operation.Completion.WaitAsync(cancellationToken);
    }

    /// <summary>Stops taking operations, finishes those queued, and waits for the thread.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _thread.Join();
    }

    private void Run()
    {
        var batch = new List<StoreOperation>(_maxBatch);
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            StoreOperation? alone = null;
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var operation))
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

            if (!_queue.Reader.TryPeek(out _))
            {
                RunAlone(null, () =>
                {
                    _backend.Idle();
                    return true;
                });
            }
        }
    }

    private void Commit(List<StoreOperation> batch)
    {
        var started = Stopwatch.GetTimestamp();
        PreparedBatch prepared;
        try
        {
            prepared = _backend.Commit(batch);
        }
        catch (Exception error)
        {
            RecordingLog.BatchFailed(_logger, batch.Count, error);

            foreach (var operation in batch)
            {
                operation.Fail(error);
            }

            return;
        }

        foreach (var (operation, result) in prepared.Results)
        {
            operation.Complete(result);
        }

        foreach (var (operation, error) in prepared.Rejections)
        {
            operation.Fail(error);
        }

        _committed?.Invoke(batch.Count, Stopwatch.GetElapsedTime(started));
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            RecordingLog.BatchCommitted(_logger, batch.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private void RunAlone<T>(StoreOperation<T>? operation, Func<T> run)
    {
        try
        {
            var result = run();
            operation?.Complete(result!);
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
