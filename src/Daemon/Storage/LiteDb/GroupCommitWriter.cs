using System.Diagnostics;
using System.Threading.Channels;
using LiteDB;
using Microsoft.Extensions.Logging;
using SeedDaemon.Daemon.Issuance;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The only thread that writes the database. It takes every operation waiting at that moment (up
/// to a bound), runs them in one transaction, commits, fsyncs the log once, and only then
/// completes them: one flush for many concurrent requests, and a lone request never waits for
/// company.
/// </summary>
internal sealed class GroupCommitWriter : IDisposable
{
    private readonly ISessionSource _sessions;
    private readonly ReaderWriterLockSlim _visibility;
    private readonly int _maxBatch;
    private readonly ILogger _logger;
    private readonly Channel<WriteOperation> _queue = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;

    private readonly Action<int, TimeSpan>? _committed;

    public GroupCommitWriter(ISessionSource sessions, ReaderWriterLockSlim visibility, int maxBatch, ILogger logger, Action<int, TimeSpan>? committed = null)
    {
        _committed = committed;
        _sessions = sessions;
        _visibility = visibility;
        _maxBatch = maxBatch;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "seedd-group-commit" };
        _thread.Start();
    }

    public bool IsRunning => _thread.IsAlive && !_queue.Reader.Completion.IsCompleted;

    public Task<T> SubmitAsync<T>(WriteOperation<T> operation, CancellationToken cancellationToken)
    {
        if (!_queue.Writer.TryWrite(operation))
        {
            throw new SeedDaemonException(ErrorKind.Unavailable, "seedd is shutting down; retry against a running daemon.");
        }

        // Once queued the write goes ahead; cancelling only stops the wait.
        return operation.Completion.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _thread.Join();
    }

    private void Run()
    {
        var batch = new List<WriteOperation>(_maxBatch);
        while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            batch.Clear();
            WriteOperation? alone = null;
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
                CommitBatch(batch);
            }

            if (alone is not null)
            {
                RunAlone(alone);
            }
        }
    }

    private void CommitBatch(List<WriteOperation> batch)
    {
        if (!TryAcquire(batch, out var session))
        {
            return;
        }

        var executed = new List<WriteOperation>(batch.Count);
        var started = Stopwatch.GetTimestamp();
        try
        {
            session.Database.BeginTrans();
            foreach (var operation in batch)
            {
                try
                {
                    operation.Execute(session);
                    executed.Add(operation);
                }
                catch (SeedDaemonException rejected)
                {
                    operation.Fail(rejected);
                }
                catch
                {
                    executed.Add(operation);
                    throw;
                }
            }

            session.WriteExperiments();

            // Readers take the read side of this lock, so nobody sees a commit before it is on disk.
            _visibility.EnterWriteLock();
            try
            {
                session.Database.Commit();
                if (executed.Count > 0)
                {
                    session.Flush();
                }
            }
            finally
            {
                _visibility.ExitWriteLock();
            }
        }
        catch (Exception error)
        {
            session.DiscardBatch();
            StoreLog.BatchFailed(_logger, batch.Count, error);
            Recover(session, error);
            // Every operation of the batch fails: those run in the rolled-back transaction and those
            // not reached yet. (Those already refused keep their own error; Fail is first-wins.)
            var failure = StorageErrors.Translate(error);
            foreach (var operation in batch)
            {
                operation.Fail(failure);
            }

            return;
        }

        foreach (var operation in executed)
        {
            operation.Succeed();
        }

        _committed?.Invoke(batch.Count, Stopwatch.GetElapsedTime(started));
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            StoreLog.BatchCommitted(_logger, batch.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private void RunAlone(WriteOperation operation)
    {
        if (!TryAcquire([operation], out var session))
        {
            return;
        }

        try
        {
            operation.Execute(session);
        }
        catch (Exception error)
        {
            if (error is not SeedDaemonException)
            {
                Recover(session, error);
            }

            operation.Fail(StorageErrors.Translate(error));
            return;
        }

        operation.Succeed();
    }

    private bool TryAcquire(List<WriteOperation> operations, out LiteSession session)
    {
        try
        {
            session = _sessions.Acquire();
            return true;
        }
        catch (Exception error)
        {
            foreach (var operation in operations)
            {
                operation.Fail(error);
            }

            session = null!;
            return false;
        }
    }

    /// <summary>
    /// An I/O error closes LiteDB's engine for good: the session is abandoned and the next batch
    /// opens a new one. Anything else is rolled back on the live session.
    /// </summary>
    private void Recover(LiteSession session, Exception error)
    {
        if (error is IOException or LiteException or ObjectDisposedException)
        {
            _sessions.Abandon(session, error);
            return;
        }

        try
        {
            session.Database.Rollback();
        }
        catch (Exception rollbackError)
        {
            StoreLog.RollbackFailed(_logger, rollbackError);
            _sessions.Abandon(session, rollbackError);
        }
    }
}
