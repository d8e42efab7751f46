using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The embedded backend's second stage: batches committed to LiteDB's log wait here for the fsync
/// that makes them durable. One thread takes every batch committed so far, fsyncs the log once for
/// all of them, applies them to the in-memory state in order and answers them; meanwhile the
/// group-commit thread may commit one more batch behind them (planned against these, see
/// <see cref="Snapshot"/>), no more (<see cref="WaitForRoom"/>). A failed fsync hands the error to
/// the backend, which drops the session and fails its batches not yet durable (<see cref="FailAll"/>).
/// The writer may fail them too, while an fsync runs: the fsync thread then answers nothing it no
/// longer holds, and never touches another session's batches.
/// </summary>
internal sealed class SyncPipeline : IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<Pending> _pending = [];
    private readonly ManualResetEventSlim _signal = new(initialState: false, spinCount: 0);
    private readonly ManualResetEventSlim _took = new(initialState: true, spinCount: 0);
    private readonly Action<LiteSession, Exception> _flushFailed;
    private readonly Thread _thread;
    private int _syncing;
    private volatile bool _closing;

    /// <param name="flushFailed">Told of a failed fsync, to drop the session (which fails its batches).</param>
    public SyncPipeline(Action<LiteSession, Exception> flushFailed)
    {
        _flushFailed = flushFailed;
        _thread = new Thread(Run) { IsBackground = true, Name = "seedd-fsync" };
        _thread.Start();
    }

    /// <summary>Batches committed to the log and not yet durable (normally 0–2; more only while an fsync hangs).</summary>
    public int PendingCount
    {
        get
        {
            lock (_gate)
            {
                return _pending.Count;
            }
        }
    }

    public bool HasPending => PendingCount > 0;

    /// <summary>
    /// The batches of <paramref name="session"/> committed but not yet durable, oldest first. Those of
    /// a dropped session are not counted: each is either in the file the new session loaded its state
    /// from, or fails.
    /// </summary>
    public List<Pending> Snapshot(LiteSession session)
    {
        lock (_gate)
        {
            return _pending.FindAll(Of(session));
        }
    }

    /// <summary>
    /// Two stages: while one fsync runs, one more batch may be committed behind it, no more. The
    /// requests that arrive meanwhile wait in the writer's queue and make the next batch bigger:
    /// fewer, larger commits, which is what keeps LiteDB's cost per request low.
    /// </summary>
    public void WaitForRoom()
    {
        while (true)
        {
            _took.Reset();
            lock (_gate)
            {
                if (_pending.Count <= _syncing || _closing)
                {
                    return;
                }
            }

            _took.Wait();
        }
    }

    /// <summary>A batch committed to the log; the task completes once an fsync that started after the commit returned.</summary>
    public Task<PreparedBatch> Add(PreparedBatch batch, LiteSession session, MemoryState state)
    {
        var pending = new Pending(batch, new TaskCompletionSource<PreparedBatch>(), session, state);
        lock (_gate)
        {
            _pending.Add(pending);
        }

        _signal.Set();
        return pending.Durable.Task;
    }

    /// <summary>Waits until every committed batch is durable (or failed).</summary>
    public void WaitForAll()
    {
        Task? last;
        lock (_gate)
        {
            last = _pending.LastOrDefault()?.Durable.Task;
        }

        try
        {
            last?.Wait();
        }
        catch (AggregateException)
        {
            // Those batches failed; their operations were told.
        }
    }

    /// <summary>Fails every batch of <paramref name="session"/> not yet durable with <paramref name="error"/> (translated to a status).</summary>
    public void FailAll(LiteSession session, Exception error)
    {
        List<Pending> failed;
        lock (_gate)
        {
            failed = _pending.FindAll(Of(session));
            _pending.RemoveAll(Of(session));
            _syncing = 0;
        }

        _took.Set();
        var translated = StorageErrors.Translate(error);
        foreach (var batch in failed)
        {
            batch.Durable.TrySetException(translated);
        }
    }

    /// <summary>Lets what is pending become durable, then stops the thread.</summary>
    public void Stop()
    {
        if (_closing)
        {
            return;
        }

        WaitForAll();
        _closing = true;
        _signal.Set();
        _took.Set();
        _thread.Join();
    }

    public void Dispose()
    {
        Stop();
        _signal.Dispose();
        _took.Dispose();
    }

    private void Run()
    {
        while (true)
        {
            List<Pending> batches;
            lock (_gate)
            {
                // One fsync makes one session's batches durable; a newer session's wait for the next.
                batches = _pending.Count == 0 ? [] : _pending.FindAll(Of(_pending[0].Session));
                _syncing = batches.Count;
            }

            _took.Set();
            if (batches.Count == 0)
            {
                if (_closing)
                {
                    return;
                }

                _signal.Reset();
                if (!HasPending && !_closing)
                {
                    _signal.Wait();
                }

                continue;
            }

            var session = batches[0].Session;
            try
            {
                session.Flush();
            }
            catch (Exception error)
            {
                _flushFailed(session, error);
                continue;
            }

            // Durable now, so the state may show them even where the writer failed them meanwhile (their
            // session is dropped and that state with it); only those still pending are dropped from the list.
            batches[0].State.ApplyDurable(batches.Select(b => b.Batch).ToList(), () =>
            {
                lock (_gate)
                {
                    _pending.RemoveAll(p => batches.Exists(b => ReferenceEquals(b, p)));
                    _syncing = 0;
                }
            });
            foreach (var batch in batches)
            {
                batch.Durable.TrySetResult(batch.Batch);
            }
        }
    }

    private static Predicate<Pending> Of(LiteSession session) => p => ReferenceEquals(p.Session, session);

    /// <summary>A batch committed in LiteDB and waiting for the fsync that makes it durable.</summary>
    internal sealed record Pending(PreparedBatch Batch, TaskCompletionSource<PreparedBatch> Durable, LiteSession Session, MemoryState State);
}
