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
    private readonly LiteDatabase _database;
    private readonly Stream _log;
    private readonly ReaderWriterLockSlim _visibility;
    private readonly int _maxBatch;
    private readonly ILogger _logger;
    private readonly Channel<WriteOperation> _queue = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _thread;

    public GroupCommitWriter(LiteDatabase database, Stream log, ReaderWriterLockSlim visibility, int maxBatch, ILogger logger)
    {
        _database = database;
        _log = log;
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
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var operation))
            {
                batch.Add(operation);
            }

            CommitBatch(batch);
        }
    }

    private void CommitBatch(List<WriteOperation> batch)
    {
        var executed = new List<WriteOperation>(batch.Count);
        var started = Stopwatch.GetTimestamp();
        try
        {
            _database.BeginTrans();
            foreach (var operation in batch)
            {
                try
                {
                    operation.Execute(_database);
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

            // Readers take the read side of this lock, so nobody sees a commit before it is on disk.
            _visibility.EnterWriteLock();
            try
            {
                _database.Commit();
                if (executed.Count > 0)
                {
                    _log.Flush();
                }
            }
            finally
            {
                _visibility.ExitWriteLock();
            }
        }
        catch (Exception error)
        {
            TryRollback();
            var failure = StorageErrors.Translate(error);
            StoreLog.BatchFailed(_logger, executed.Count, error);
            foreach (var operation in executed)
            {
                operation.Fail(failure);
            }

            return;
        }

        foreach (var operation in executed)
        {
            operation.Succeed();
        }

        if (_logger.IsEnabled(LogLevel.Trace))
        {
            StoreLog.BatchCommitted(_logger, batch.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }

    private void TryRollback()
    {
        try
        {
            _database.Rollback();
        }
        catch (Exception rollbackError)
        {
            StoreLog.RollbackFailed(_logger, rollbackError);
        }
    }
}
