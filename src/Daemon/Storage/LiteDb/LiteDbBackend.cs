using System.Diagnostics;
using LiteDB;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The embedded backend: one LiteDB file (plus its "-log" write-ahead file) on an
/// <see cref="IStorageMedium"/>, owned by one process. The state is kept in memory
/// (<see cref="MemoryState"/>), which is what the planner reads and what reads answer from; a group
/// commit writes only the ledger (one document per experiment) and the experiment documents it
/// changed, and commits. The fsync of the log runs on a thread of its own, so that the group-commit
/// thread writes the next batch meanwhile (planned against the batches still waiting for their fsync);
/// a batch is answered, and becomes visible to readers, once an fsync that started after its commit
/// has returned. Issued keys are checkpointed into LiteDB in bulk, off the request path
/// (<see cref="CheckpointKeys"/>), and rebuilt at open from the checkpoint and the ledger after it.
/// After an I/O failure (disk full) the session is dropped, every batch not yet durable fails, and
/// the next write reopens the file and reloads the state from it: no restart needed.
/// </summary>
public sealed class LiteDbBackend : IStoreBackend
{
    private const int PageSize = 8192;

    private readonly IStorageMedium _medium;
    private readonly string _logPath;
    private readonly ILogger _logger;
    private readonly LiteDbCheckpoints _checkpoints;
    private readonly Lock _pendingGate = new();
    private readonly List<Pending> _pending = [];
    private readonly ManualResetEventSlim _syncSignal = new(initialState: false, spinCount: 0);
    private readonly ManualResetEventSlim _syncTook = new(initialState: true, spinCount: 0);
    private int _syncing;
    private readonly Thread _syncer;
    private volatile bool _closing;
    private volatile LiteSession? _session;
    private volatile MemoryState _state;
    private Exception? _downBecause;
    private long _lastCheckpoint = Stopwatch.GetTimestamp();
    private int _commitsSinceLogCheck;

    private LiteDbBackend(string path, IStorageMedium medium, LiteSession session, MemoryState state, bool created, ILogger logger, LiteDbCheckpoints checkpoints)
    {
        Location = path;
        _logPath = LogPath(path);
        _medium = medium;
        _session = session;
        _state = state;
        Created = created;
        _logger = logger;
        _checkpoints = checkpoints;
        _syncer = new Thread(Sync) { IsBackground = true, Name = "seedd-fsync" };
        _syncer.Start();
    }

    public string Location { get; }

    /// <summary>This open created the database file (it did not exist).</summary>
    public bool Created { get; }

    public bool IsWritable => _session is not null;

    public StoreStatistics Statistics
    {
        get
        {
            var state = _state;
            return new StoreStatistics(
                (_medium.FileExists(Location) ? _medium.FileLength(Location) : 0) + (_medium.FileExists(_logPath) ? _medium.FileLength(_logPath) : 0),
                state.ExperimentCount,
                new Dictionary<string, double> { ["seedd_issued_keys"] = state.KeyCount, ["seedd_ledger_events_since_checkpoint"] = state.TailEvents });
        }
    }

    /// <summary>
    /// Opens (or creates) the database at <paramref name="path"/> and loads its state. A file that
    /// is not a LiteDB database, is damaged, is in another layout or is in use fails with
    /// <see cref="StoreOpenException"/> and is left byte for byte as it was: the backend never
    /// starts over on a fresh file.
    /// </summary>
    public static LiteDbBackend Open(string path, ILogger logger, IStorageMedium? medium = null, LiteDbCheckpoints? checkpoints = null)
    {
        medium ??= FileSystemMedium.Instance;
        path = Path.GetFullPath(path);
        CheckBeforeOpen(medium, path, LogPath(path));
        LiteSession session;
        bool created;
        try
        {
            session = LiteSession.Open(medium, path, LogPath(path), layout => StoreLog.Migrating(logger, path, layout), out created);
        }
        catch (Exception error)
        {
            throw new StoreOpenException(path, Describe(error), error);
        }

        var started = Stopwatch.GetTimestamp();
        MemoryState state;
        try
        {
            state = StateLoader.Load(session);
        }
        catch (Exception error)
        {
            session.Abandon();
            throw new StoreOpenException(path, Describe(error), error);
        }

        StoreLog.Opened(logger, path, state.ExperimentCount, state.KeyCount, state.TailEvents, Stopwatch.GetElapsedTime(started).TotalSeconds);
        return new LiteDbBackend(path, medium, session, state, created, logger, checkpoints ?? new LiteDbCheckpoints());
    }

    public Task<PreparedBatch> Commit(IReadOnlyList<StoreOperation> operations)
    {
        // Two stages: while one fsync runs, one more batch may be committed behind it, no more. The
        // requests that arrive meanwhile wait in the queue and make the next batch bigger: fewer,
        // larger commits, which is what keeps LiteDB's cost per request low.
        WaitForSyncerToTakeCommitted();
        var session = Acquire();
        var state = _state;

        // Planned, and its experiment documents built, against the durable state and the batches
        // still waiting for their fsync, with the fsync thread held off from applying meanwhile.
        var (prepared, before, experiments) = state.Planning(() =>
        {
            List<Pending> pending;
            lock (_pendingGate)
            {
                pending = [.. _pending];
            }

            var view = new OverlayState(state, pending.Select(p => p.Batch).ToList());
            var planned = BatchPlanner.Plan(operations, view, () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            return (planned, pending.LastOrDefault()?.Durable.Task, planned.IsEmpty ? [] : ExperimentDocuments(state, view, planned));
        });

        if (prepared.IsEmpty)
        {
            // Nothing to write, but what it answers may rest on a batch still waiting for its fsync.
            return before is null ? Task.FromResult(prepared) : AfterAsync(before, prepared);
        }

        Guard(session, () =>
        {
            session.Database.BeginTrans();
            foreach (var append in prepared.Appends)
            {
                foreach (var document in LedgerDocuments.ToDocuments(append))
                {
                    session.Events.Insert(document);
                }
            }

            foreach (var (document, isNew) in experiments)
            {
                if (isNew)
                {
                    session.Experiments.Insert(document);
                }
                else
                {
                    session.Experiments.Update(document);
                }
            }

            session.Database.Commit();
            return true;
        });

        var durable = new Pending(prepared, new TaskCompletionSource<PreparedBatch>(), session, state);
        lock (_pendingGate)
        {
            _pending.Add(durable);
        }

        _syncSignal.Set();
        if (state.TailEvents >= _checkpoints.HardEvents)
        {
            CheckpointKeys(session, state);
        }

        if (++_commitsSinceLogCheck >= 64)
        {
            _commitsSinceLogCheck = 0;
            if (LogBytes >= _checkpoints.HardLogBytes)
            {
                CheckpointLog(session);
            }
        }

        return durable.Durable.Task;

        static async Task<PreparedBatch> AfterAsync(Task previous, PreparedBatch prepared)
        {
            await previous;
            return prepared;
        }
    }

    public void Idle()
    {
        var state = _state;
        if (_session is { } session && (state.TailEvents > 0 || HasPending)
            && (state.TailEvents >= _checkpoints.IdleEvents || Stopwatch.GetElapsedTime(_lastCheckpoint) >= _checkpoints.IdleInterval))
        {
            CheckpointKeys(session, state);
        }

        if (_session is { } open && LogBytes >= _checkpoints.IdleLogBytes)
        {
            CheckpointLog(open);
        }
    }

    private long LogBytes => _medium.FileExists(_logPath) ? _medium.FileLength(_logPath) : 0;

    /// <summary>LiteDB's own checkpoint: its log copied into the data file, the data file fsynced, the log emptied.</summary>
    private void CheckpointLog(LiteSession session)
    {
        WaitForPending();
        if (_session == session)
        {
            Guard(session, () =>
            {
                session.Database.Checkpoint();
                return true;
            });
        }
    }

    /// <summary>
    /// An online, consistent copy: with no batch in flight, the keys are checkpointed, LiteDB's log is
    /// checkpointed into the data file, and the data file is copied to a new file and fsynced.
    /// </summary>
    public BackupInfo Backup(string targetPath)
    {
        var target = Path.GetFullPath(targetPath);
        if (File.Exists(target) || Directory.Exists(target))
        {
            throw new SeedDaemonException(ErrorKind.AlreadyExists, $"backup target {target} already exists; choose a new file name.", "path");
        }

        var directory = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(directory))
        {
            throw new SeedDaemonException(ErrorKind.FailedPrecondition, $"backup directory {directory} does not exist on the daemon's host.");
        }

        var session = Acquire();
        var state = _state;
        CheckpointKeys(session, state, force: true);
        session = Acquire();
        return Guard(session, () =>
        {
            session.Database.Checkpoint();
            var temporary = target + ".partial";
            long bytes;
            using (var copy = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                // LiteDB's readers position the data stream under a lock on the stream itself; so do we.
                lock (session.Data)
                {
                    session.Data.Position = 0;
                    session.Data.CopyTo(copy);
                    bytes = session.Data.Length;
                }

                copy.Flush(flushToDisk: true);
            }

            File.Move(temporary, target);
            FileSystemMedium.Instance.SyncDirectory(directory);
            return new BackupInfo(target, bytes, state.ExperimentCount, state.KeyCount, DateTime.UtcNow);
        });
    }

    public ValueTask<ExperimentRecord?> FindExperimentAsync(string experimentId, CancellationToken cancellationToken) => new(_state.Find(experimentId));

    public ValueTask<ExperimentRecord?> FindExperimentForIssueAsync(string experimentId, CancellationToken cancellationToken) => new(_state.Find(experimentId));

    public ValueTask<IReadOnlyList<ExperimentRecord>> ListExperimentsAsync(string? afterId, int limit, CancellationToken cancellationToken) =>
        new(_state.ListExperiments(afterId, limit));

    public ValueTask<IReadOnlyList<SeedRecord>> ListSeedsAsync(string experimentId, SeedCursor? afterKey, int limit, CancellationToken cancellationToken) =>
        new(_state.ListSeeds(experimentId, afterKey, limit));

    public ValueTask<SeedRecord?> FindSeedAsync(string experimentId, uint worker, string library, string stream, CancellationToken cancellationToken) =>
        new(_state.FindSeed(experimentId, worker, library, stream));

    public ValueTask<ChainHead> GetChainHeadAsync(string experimentId, CancellationToken cancellationToken) =>
        new(_state.Head(experimentId) ?? throw SeedDaemonException.ExperimentNotFound(experimentId));

    public ValueTask<IReadOnlyList<LedgerRecord>> ListEventsAsync(string experimentId, ulong afterSequence, int limit, CancellationToken cancellationToken)
    {
        // LiteDB shows what is committed; the durable head (in memory, moved only after the fsync) cuts off what is not yet on disk.
        var durable = _state.Head(experimentId)?.Sequence ?? 0;
        try
        {
            var session = _session ?? throw Down();
            var events = new List<LedgerRecord>(Math.Min(limit, 1024));
            foreach (var document in session.EventsFrom(experimentId, afterSequence + 1))
            {
                foreach (var record in LedgerDocuments.ToRecords(document))
                {
                    if (record.Entry.Sequence > durable)
                    {
                        return new(events);
                    }

                    if (record.Entry.Sequence > afterSequence)
                    {
                        events.Add(record);
                        if (events.Count == limit)
                        {
                            return new(events);
                        }
                    }
                }
            }

            return new(events);
        }
        catch (Exception error) when (error is IOException or LiteException or ObjectDisposedException)
        {
            throw StorageErrors.Translate(error);
        }
    }

    /// <summary>Makes what is pending durable, checkpoints the keys (so the next open reads no ledger tail), then closes the file (LiteDB checkpoints its log).</summary>
    public void Dispose()
    {
        StopSyncer();
        var session = _session;
        try
        {
            if (session is not null)
            {
                try
                {
                    CheckpointKeys(session, _state, force: true);
                }
                catch (SeedDaemonException)
                {
                    // The next open replays the ledger instead.
                }

                try
                {
                    CheckpointLog(session);
                }
                catch (SeedDaemonException)
                {
                    // The next open replays LiteDB's log instead.
                }

                _session = null;
                session.Dispose();
            }
        }
        finally
        {
            _syncSignal.Dispose();
            _syncTook.Dispose();
            StoreLog.Closed(_logger, Location);
        }
    }

    /// <summary>After a refused start: closes the database and removes it when this open created it, so the start changed nothing.</summary>
    public void DisposeAfterRefusedStart()
    {
        StopSyncer();
        var session = _session;
        _session = null;
        session?.Abandon();
        if (Created && _medium is FileSystemMedium)
        {
            File.Delete(Location);
            File.Delete(_logPath);
        }
    }

    internal static string LogPath(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path) + "-log" + Path.GetExtension(path));

    /// <summary>
    /// Writes the issued keys that changed since the last checkpoint (whole chunks) and moves each
    /// experiment's checkpoint to its head, in one transaction. The next open loads these chunks and
    /// replays only the ledger after them.
    /// </summary>
    private void CheckpointKeys(LiteSession session, MemoryState state, bool force = false)
    {
        // The chunks must be the durable state itself: nothing may be waiting for its fsync.
        WaitForPending();
        if (_session != session)
        {
            return;
        }

        var changed = state.Entries.Where(e => e.Keys.DirtyChunks.Count > 0 || e.CheckpointSequence != e.HeadSequence).ToList();
        if (changed.Count == 0 && !force)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var chunks = 0;
        Write(session, () =>
        {
            foreach (var entry in changed)
            {
                foreach (var chunk in entry.Keys.DirtyChunks)
                {
                    session.Keys.Upsert(KeyChunkDocuments.ToDocument(entry, chunk, state.Columns, state.Requesters));
                    chunks++;
                }

                session.Experiments.Update(Documents.ToDocument(entry.Record, new ChainHead(entry.HeadSequence, entry.HeadHex), entry.HeadSequence));
            }
        });

        foreach (var entry in changed)
        {
            entry.Keys.MarkClean();
            entry.CheckpointSequence = entry.HeadSequence;
        }

        var events = state.TailEvents;
        state.TailEvents = 0;
        _lastCheckpoint = Stopwatch.GetTimestamp();
        StoreLog.KeysCheckpointed(_logger, chunks, changed.Count, events, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>The experiment documents a batch changes (new or updated), as they are once it is applied over the batches before it.</summary>
    private static List<(BsonDocument Document, bool IsNew)> ExperimentDocuments(MemoryState state, OverlayState before, PreparedBatch prepared)
    {
        var documents = new List<(BsonDocument, bool)>();
        var heads = prepared.Appends.ToDictionary(a => a.ExperimentId, a => a.After, StringComparer.Ordinal);
        foreach (var created in prepared.CreatedExperiments)
        {
            documents.Add((Documents.ToDocument(created, heads.GetValueOrDefault(created.Id, ChainHead.Genesis), 0), true));
        }

        var createdIds = prepared.CreatedExperiments.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var id in prepared.FrozenExperiments.Concat(heads.Keys).Where(id => !createdIds.Contains(id)).Distinct(StringComparer.Ordinal))
        {
            var current = before.Experiment(id)!;
            var record = prepared.FrozenExperiments.Contains(id) ? current.Record with { Frozen = true } : current.Record;
            var head = heads.TryGetValue(id, out var after) ? after : current.Head;
            documents.Add((Documents.ToDocument(record, head, state.CheckpointOf(id)), false));
        }

        return documents;
    }

    /// <summary>
    /// Runs <paramref name="write"/> in one transaction, commits and fsyncs the log (with nothing else
    /// pending: checkpoints only). On failure nothing of it is durable: an I/O error drops the session
    /// (it is reopened on the next write), anything else is rolled back.
    /// </summary>
    private void Write(LiteSession session, Action write) => Guard(session, () =>
    {
        session.Database.BeginTrans();
        write();
        session.Database.Commit();
        session.Flush();
        return true;
    });

    private bool HasPending
    {
        get
        {
            lock (_pendingGate)
            {
                return _pending.Count > 0;
            }
        }
    }

    private void WaitForSyncerToTakeCommitted()
    {
        while (true)
        {
            _syncTook.Reset();
            lock (_pendingGate)
            {
                if (_pending.Count <= _syncing || _closing)
                {
                    return;
                }
            }

            _syncTook.Wait();
        }
    }

    /// <summary>Waits until every committed batch is durable (or failed).</summary>
    private void WaitForPending()
    {
        Task? last;
        lock (_pendingGate)
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

    /// <summary>
    /// The fsync thread: takes every batch committed so far, fsyncs the log once (one fsync for all of
    /// them), applies them to the state in order and answers them. A failed fsync fails every batch not
    /// yet durable and drops the session: the file, reopened, is the truth.
    /// </summary>
    private void Sync()
    {
        while (true)
        {
            List<Pending> batches;
            lock (_pendingGate)
            {
                batches = [.. _pending];
                _syncing = batches.Count;
            }

            _syncTook.Set();

            if (batches.Count == 0)
            {
                if (_closing)
                {
                    return;
                }

                _syncSignal.Reset();
                if (!HasPending && !_closing)
                {
                    _syncSignal.Wait();
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
                FailPending(session, error);
                continue;
            }

            batches[0].State.ApplyDurable(batches.Select(b => b.Batch).ToList(), () =>
            {
                lock (_pendingGate)
                {
                    _pending.RemoveRange(0, batches.Count);
                    _syncing = 0;
                }
            });
            foreach (var batch in batches)
            {
                batch.Durable.TrySetResult(batch.Batch);
            }
        }
    }

    private void FailPending(LiteSession session, Exception error)
    {
        List<Pending> failed;
        lock (_pendingGate)
        {
            failed = [.. _pending];
            _pending.Clear();
            _syncing = 0;
        }

        _syncTook.Set();

        if (error is IOException or LiteException or ObjectDisposedException)
        {
            Abandon(session, error);
        }

        var translated = StorageErrors.Translate(error);
        foreach (var batch in failed)
        {
            batch.Durable.TrySetException(translated);
        }
    }

    private void StopSyncer()
    {
        if (_closing)
        {
            return;
        }

        WaitForPending();
        _closing = true;
        _syncSignal.Set();
        _syncTook.Set();
        _syncer.Join();
    }

    /// <summary>A batch committed in LiteDB and waiting for the fsync that makes it durable.</summary>
    private sealed record Pending(PreparedBatch Batch, TaskCompletionSource<PreparedBatch> Durable, LiteSession Session, MemoryState State);

    private T Guard<T>(LiteSession session, Func<T> run)
    {
        try
        {
            return run();
        }
        catch (Exception error)
        {
            if (error is IOException or LiteException or ObjectDisposedException)
            {
                FailPending(session, error);
                Abandon(session, error);
            }
            else if (error is not SeedDaemonException)
            {
                try
                {
                    session.Database.Rollback();
                }
                catch (Exception rollbackError)
                {
                    StoreLog.RollbackFailed(_logger, rollbackError);
                    Abandon(session, rollbackError);
                }
            }

            throw StorageErrors.Translate(error);
        }
    }

    /// <summary>The open session; after a failure the file is reopened and the state reloaded from it (it is the truth).</summary>
    private LiteSession Acquire()
    {
        if (_session is { } current)
        {
            return current;
        }

        try
        {
            var reopened = LiteSession.Open(_medium, Location, _logPath, _ => { }, out _);
            try
            {
                _state = StateLoader.Load(reopened);
            }
            catch
            {
                reopened.Abandon();
                throw;
            }

            _session = reopened;
            _downBecause = null;
            StoreLog.Reopened(_logger, Location);
            return reopened;
        }
        catch (Exception error)
        {
            _downBecause = error;
            throw StorageErrors.Translate(error);
        }
    }

    private void Abandon(LiteSession session, Exception cause)
    {
        lock (_pendingGate)
        {
            if (!ReferenceEquals(_session, session))
            {
                return;
            }

            _session = null;
            _downBecause = cause;
        }

        session.Abandon();
        StoreLog.SessionAbandoned(_logger, Location, cause);
    }

    private Exception Down() => _downBecause is { } cause
        ? StorageErrors.Translate(cause)
        : new SeedDaemonException(ErrorKind.Unavailable, "The seed database is not open; retry.");

    /// <summary>
    /// Refuses what LiteDB would otherwise "repair" by changing it: a data file that is not a whole
    /// number of pages (LiteDB crops it), or an empty or missing data file next to a non-empty log
    /// (LiteDB would start a fresh database). A torn tail is normal for the log after a crash,
    /// never for the data file.
    /// </summary>
    private static void CheckBeforeOpen(IStorageMedium medium, string path, string logPath)
    {
        if (medium.DirectoryExists(path))
        {
            throw new StoreOpenException(path, "it is a directory, not a database file.");
        }

        var logHasData = medium.FileExists(logPath) && medium.FileLength(logPath) > 0;
        if (!medium.FileExists(path))
        {
            if (logHasData)
            {
                throw new StoreOpenException(path, $"the database file is missing but its log {logPath} is not empty: the database was moved or deleted. Restore it from a backup, or remove the log to start a new database.");
            }

            return;
        }

        var length = medium.FileLength(path);
        if (length % PageSize != 0)
        {
            throw new StoreOpenException(path, $"the file is {length} bytes, not a whole number of {PageSize}-byte pages: it is damaged or not a LiteDB database. It was left untouched; restore it from a backup.");
        }

        if (length == 0 && logHasData)
        {
            throw new StoreOpenException(path, "the database file is empty but its log is not: it was truncated. It was left untouched; restore it from a backup.");
        }
    }

    private static string Describe(Exception error) => error switch
    {
        UnauthorizedAccessException => $"permission denied ({error.Message}).",
        IOException io when io.Message.Contains("being used by another process", StringComparison.OrdinalIgnoreCase)
            => "it is locked by another process (is another seedd running on it?).",
        IOException io => io.Message,
        LiteException { ErrorCode: LiteException.INVALID_DATABASE } => "it is not a LiteDB database or its header is damaged. It was left untouched; restore it from a backup.",
        InvalidDataException when error.Message.StartsWith("it holds data in storage layout", StringComparison.Ordinal) => error.Message,
        _ => $"the file is damaged: its pages cannot be read back as seedd wrote them (LiteDB: {error.Message}). It and its log were left untouched; restore it from a backup.",
    };
}

/// <summary>When the embedded backend checkpoints its issued keys (see <see cref="LiteDbBackend"/>).</summary>
public sealed record LiteDbCheckpoints
{
    /// <summary>Checkpoint when idle once this many ledger events came since the last one.</summary>
    public long IdleEvents { get; init; } = 65_536;

    /// <summary>Checkpoint when idle at least this often while anything changed.</summary>
    public TimeSpan IdleInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Checkpoint even under load once this many events came since the last one (bounds the replay at the next open).</summary>
    public long HardEvents { get; init; } = 1_048_576;

    /// <summary>Copy LiteDB's log into the data file when idle once the log holds this much.</summary>
    public long IdleLogBytes { get; init; } = 8 << 20;

    /// <summary>... and even under load once it holds this much.</summary>
    public long HardLogBytes { get; init; } = 64 << 20;
}
