using System.Diagnostics;
using LiteDB;
using SeedDaemon.Daemon.Recording;

using SeedDaemon.Ledger;

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
internal sealed partial class LiteDbBackend : IStoreBackend, IDocumentCheck
{
    internal const int PageSize = 8192;

    private readonly IStorageMedium _medium;
    private readonly string _logPath;
    private readonly ILogger _logger;
    private readonly LiteDbCheckpoints _checkpoints;
    private readonly Lock _sessionGate = new();
    private readonly Lock _reopenGate = new();
    private volatile bool _closed;
    private readonly SyncPipeline _sync;
    private volatile LiteSession? _session;
    private volatile MemoryState _state;
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
        _sync = new SyncPipeline(Abandon);
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
                FileBytes(Location) + LogBytes,
                state.ExperimentCount,
                new Dictionary<string, double>
                {
                    ["seedd_issued_keys"] = state.KeyCount,
                    ["seedd_ledger_events_since_checkpoint"] = state.TailEvents,
                    ["seedd_commits_awaiting_fsync"] = _sync.PendingCount,
                });
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
        OpenChecks.BeforeOpen(medium, path, LogPath(path));
        LiteSession session;
        bool created;
        try
        {
            session = LiteSession.Open(medium, path, LogPath(path), layout => StoreLog.Migrating(logger, path, layout, LiteSession.Layout), out created);
        }
        catch (Exception error)
        {
            throw new StoreOpenException(path, OpenChecks.Describe(error), error);
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
            throw new StoreOpenException(path, OpenChecks.Describe(error), error);
        }

        if (created)
        {
            StoreLog.Created(logger, path);
        }
        else
        {
            StoreLog.Opened(logger, path, state.ExperimentCount, state.KeyCount, state.TailEvents, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return new LiteDbBackend(path, medium, session, state, created, logger, checkpoints ?? new LiteDbCheckpoints());
    }

    public Task<PreparedBatch> Commit(IReadOnlyList<StoreOperation> operations)
    {
        _sync.WaitForRoom();
        var session = Acquire();
        var state = _state;

        // Planned, and its experiment documents built, against the durable state and the batches
        // still waiting for their fsync, with the fsync thread held off from applying meanwhile.
        var (prepared, before, experiments) = state.Planning(() =>
        {
            var pending = _sync.Snapshot(session);
            var view = new OverlayState(state, pending.Select(p => p.Batch).ToList());
            var planned = BatchPlanner.Plan(operations, view, () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            return (planned, pending.LastOrDefault()?.Durable.Task, ExperimentDocuments(state, planned));
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

                TreeNodeDocuments.Write(session, append.ExperimentId, append.Nodes);
            }

            WriteBlocks(session, prepared);

            foreach (var process in prepared.Processes.Values)
            {
                session.Processes.Upsert(RunDocuments.ToDocument(process));
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

        var durable = _sync.Add(prepared, session, state);
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

        return durable;

        static async Task<PreparedBatch> AfterAsync(Task previous, PreparedBatch prepared)
        {
            await previous;
            return prepared;
        }
    }

    public void Idle()
    {
        var state = _state;
        if (_session is { } session && (state.TailEvents > 0 || _sync.HasPending)
            && (state.TailEvents >= _checkpoints.IdleEvents || Stopwatch.GetElapsedTime(_lastCheckpoint) >= _checkpoints.IdleInterval))
        {
            CheckpointKeys(session, state);
        }

        if (_session is { } open && LogBytes >= _checkpoints.IdleLogBytes)
        {
            CheckpointLog(open);
        }
    }

    private long LogBytes => FileBytes(_logPath);

    private long FileBytes(string path) => _medium.FileExists(path) ? _medium.FileLength(path) : 0;

    /// <summary>LiteDB's own checkpoint: its log copied into the data file, the data file fsynced, the log emptied.</summary>
    private void CheckpointLog(LiteSession session)
    {
        _sync.WaitForAll();
        if (_session == session)
        {
            Guard(session, () =>
            {
                session.Checkpoint();
                return true;
            });
        }
    }

    /// <summary>
    /// An online, consistent copy: with no batch in flight, the keys are checkpointed, LiteDB's log is
    /// checkpointed into the data file, and the data file is copied to a new file and fsynced. A
    /// failure to write the copy is the target's (<see cref="BackupFile"/>): only a failure to read
    /// the database drops the session.
    /// </summary>
    public BackupInfo Backup(string targetPath)
    {
        var target = Path.GetFullPath(targetPath);
        var (data, log) = (Path.GetFullPath(Location), Path.GetFullPath(_logPath));
        if (target == data || target == log)
        {
            throw OwnFile(target, data, log);
        }

        if (_medium.FileExists(target) || _medium.DirectoryExists(target))
        {
            throw new SeedDaemonException(ErrorKind.AlreadyExists, $"backup target {target} already exists; choose a new file name.");
        }

        var directory = Path.GetDirectoryName(target)!;
        if (!_medium.DirectoryExists(directory))
        {
            throw new SeedDaemonException(ErrorKind.FailedPrecondition, $"backup directory {directory} does not exist on the daemon's host.");
        }

        // Compared with every symbolic link resolved: a directory reached through a link may be the database's own.
        string resolved;
        try
        {
            resolved = _medium.ResolveDirectory(directory);
        }
        catch (IOException error)
        {
            throw new SeedDaemonException(ErrorKind.FailedPrecondition, $"backup directory {directory} cannot be resolved on the daemon's host ({error.Message}).");
        }

        if (resolved == _medium.ResolveDirectory(Path.GetDirectoryName(data)!) && Path.GetFileName(target) is var name && (name == Path.GetFileName(data) || name == Path.GetFileName(log)))
        {
            throw OwnFile(target, data, log);
        }

        var session = Acquire();
        var state = _state;
        CheckpointKeys(session, state, force: true);
        session = Acquire();
        Guard(session, () =>
        {
            session.Checkpoint();
            return true;
        });

        using var copy = BackupFile.Create(_medium, target, session.Data.Length);
        var buffer = new byte[1 << 20];
        long bytes = 0;
        while (Guard(session, () => ReadData(session, bytes, buffer)) is var read and > 0)
        {
            copy.Write(buffer, read);
            bytes += read;
        }

        copy.Complete();
        return new BackupInfo(target, bytes, state.ExperimentCount, state.KeyCount, DateTime.UtcNow);
    }

    /// <summary>The log exists only once LiteDB first writes: a copy there would become the log, and be emptied at its next checkpoint.</summary>
    private static SeedDaemonException OwnFile(string target, string data, string log) =>
        SeedDaemonException.Invalid("path", $"backup target {target} is a file of the seed database itself (its data file {data} and its log {log}); choose another name.");

    /// <summary>Reads the data file at <paramref name="offset"/>; LiteDB's readers position it under a lock on the stream itself, so do we.</summary>
    private static int ReadData(LiteSession session, long offset, byte[] buffer)
    {
        lock (session.Data)
        {
            session.Data.Position = offset;
            return session.Data.Read(buffer, 0, buffer.Length);
        }
    }

    public ValueTask<ExperimentRecord?> FindExperimentAsync(string experimentId, CancellationToken cancellationToken) => new(_state.Find(experimentId));

    public ValueTask<ExperimentRecord?> FindExperimentForIssueAsync(string experimentId, CancellationToken cancellationToken) => new(_state.Find(experimentId));

    public ValueTask<IReadOnlyList<ExperimentRecord>> ListExperimentsAsync(string? afterId, int limit, CancellationToken cancellationToken) =>
        new(_state.ListExperiments(afterId, limit));

    public ValueTask<IReadOnlyList<SeedRecord>> ListSeedsAsync(string experimentId, SeedCursor? afterKey, int limit, CancellationToken cancellationToken) =>
        new(_state.ListSeeds(experimentId, afterKey, limit));

    public ValueTask<SeedRecord?> FindSeedAsync(SeedKey key, CancellationToken cancellationToken) =>
        new(_state.FindSeed(key));

    public ValueTask<MerkleFrontier> GetTreeAsync(string experimentId, CancellationToken cancellationToken) =>
        new(_state.Tree(experimentId) ?? throw SeedDaemonException.ExperimentNotFound(experimentId));

    public ValueTask<IReadOnlyList<byte[]>> ListTreeNodesAsync(string experimentId, int level, long start, long end, CancellationToken cancellationToken) =>
        new(Read<IReadOnlyList<byte[]>>($"the ledger tree of '{experimentId}'", session => TreeNodeDocuments.Read(session, experimentId, level, start, end)));

    public ValueTask<ChainHead> GetChainHeadAsync(string experimentId, CancellationToken cancellationToken) =>
        new(_state.Head(experimentId) ?? throw SeedDaemonException.ExperimentNotFound(experimentId));

    /// <summary>
    /// A batch's new fingerprints, a block of 16 steps per process and document: steps in the block a
    /// process's last step is in are appended to its document, later ones start new documents.
    /// </summary>
    private static void WriteBlocks(LiteSession session, PreparedBatch prepared)
    {
        foreach (var process in prepared.Fingerprints.GroupBy(f => f.Key.Process))
        {
            var steps = process.Select(f => f.Value).OrderBy(f => f.Step).ToList();
            foreach (var block in steps.GroupBy(f => FingerprintBlocks.Of(f.Step)))
            {
                var first = block.First().Step;
                var previous = prepared.PreviousSteps[(process.Key, first)];
                if (previous >= 0 && FingerprintBlocks.Of(previous) == block.Key)
                {
                    var stored = session.FindBlock(process.Key, block.Key)
                        ?? throw DocumentSeal.Damaged(FingerprintBlocks.Collection, FingerprintBlocks.Id(process.Key, block.Key), $"it is missing: worker {process.Key.Worker} of run '{process.Key.RunId}' last reported step {previous}");
                    session.Fingerprints.Update(FingerprintBlocks.ToDocument(process.Key, stored.PreviousStep, [.. stored.Steps, .. block]));
                }
                else
                {
                    session.Fingerprints.Insert(FingerprintBlocks.ToDocument(process.Key, previous, [.. block]));
                }
            }
        }
    }

    public ValueTask<IReadOnlyList<ProcessRecord>> ListProcessesAsync(string experimentId, string? runId, CancellationToken cancellationToken) =>
        new(_state.Processes(experimentId, runId));

    public ValueTask<StepFingerprint?> FindFingerprintAsync(ProcessKey key, long step, CancellationToken cancellationToken)
    {
        // Durable only: a step above the process's durable last step may still wait for its fsync.
        if (_state.FindProcess(key) is not { } process || step > process.LastStep)
        {
            return new((StepFingerprint?)null);
        }

        return new(Read($"the fingerprint of {key} at step {step}", session => session.FindFingerprint(key, step, process.LastStep)));
    }

    public ValueTask<FingerprintPage> ListFingerprintsAsync(string experimentId, string runId, long fromStep, FingerprintCursor? after, int limit, CancellationToken cancellationToken)
    {
        var state = _state;

        // Whole rows of blocks (16 steps of every process): a page ends at a row's end, past the limit
        // when the row is longer, and the next page starts at the next row. The step links go on from
        // the page before (its cursor carries them), so a block lost at a page's edge is found too.
        var startStep = after is { } cursor ? cursor.Step + 1 : fromStep;
        var startBlock = FingerprintBlocks.Of(startStep);
        var (lower, upper) = FingerprintBlocks.RunRange(experimentId, runId, startBlock);
        var page = new List<FingerprintRecord>(Math.Min(limit, 1024));
        var links = after?.Links as StepLinks ?? new StepLinks(startBlock);

        // Taken before the file is read: whatever was durable then is in the read (later steps may be too).
        var processes = state.Processes(experimentId, runId);
        return new(Read($"the fingerprints of run '{runId}' of '{experimentId}'", session =>
        {
            var row = new List<FingerprintBlocks.Block>();
            var rowNumber = startBlock;

            // An index range, read in _id order: a run's blocks in (block, worker) order.
            foreach (var document in LiteSession.InOrder(session.Fingerprints.Find(Query.Between("_id", lower, upper)), FingerprintBlocks.Collection, lower, upper))
            {
                var block = FingerprintBlocks.ToBlock(document);
                var number = FingerprintBlocks.Of(block.Steps[0].Step);
                if (number != rowNumber)
                {
                    AddRow(row, rowNumber, startStep, state, page);
                    row.Clear();
                    if (page.Count >= limit)
                    {
                        // This block starts the next page (it is linked there, not here).
                        return new FingerprintPage(page, FingerprintCursor.EndOf((rowNumber * FingerprintBlocks.Steps) + FingerprintBlocks.Steps - 1) with { Links = links });
                    }

                    rowNumber = number;
                }

                links.Saw(block);
                row.Add(block);
            }

            AddRow(row, rowNumber, startStep, state, page);
            links.End(processes);
            return new FingerprintPage(page, null);
        }));

        // A row's steps in (step, worker) order: the blocks come in worker order, each ascending. Durable only (see FindFingerprintAsync).
        static void AddRow(List<FingerprintBlocks.Block> row, long number, long startStep, MemoryState state, List<FingerprintRecord> page)
        {
            var next = new int[row.Count];
            var lastSteps = row.Select(b => state.FindProcess(b.Key)?.LastStep ?? -1).ToArray();
            for (var offset = 0; offset < FingerprintBlocks.Steps; offset++)
            {
                var step = (number * FingerprintBlocks.Steps) + offset;
                for (var i = 0; i < row.Count; i++)
                {
                    var steps = row[i].Steps;
                    if (next[i] < steps.Count && steps[next[i]].Step == step)
                    {
                        next[i]++;
                        if (step >= startStep && step <= lastSteps[i])
                        {
                            page.Add(new FingerprintRecord(row[i].Key, steps[next[i] - 1]));
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// A read of the file for a reader (not the writer): a failure is the caller's error (DATA_LOSS
    /// where what was read is damaged). LiteDB closes its engine when a page it reads is damaged
    /// beyond its own checks: then the session is dropped (the read answers DATA_LOSS), and the next
    /// read or write reopens the file, so healthy reads go on being served.
    /// </summary>
    private T Read<T>(string what, Func<LiteSession, T> read)
    {
        for (var attempt = 0; ; attempt++)
        {
            var session = Acquire();
            try
            {
                return read(session);
            }
            catch (Exception error)
            {
                if (error is LiteException { ErrorCode: LiteException.INVALID_DATAFILE_STATE })
                {
                    Abandon(session, error);
                }
                else if (error is ObjectDisposedException && attempt == 0 && ReferenceEquals(_session, session))
                {
                    // The engine was closed under this read (by another read's damage): reopen and read again.
                    Abandon(session, error);
                    continue;
                }

                throw StorageErrors.TranslateRead(error, what);
            }
        }
    }

    public ValueTask<IReadOnlyList<byte[]>> ListLeafHashesAsync(string experimentId, long start, long end, CancellationToken cancellationToken)
    {
        // Straight from the packed documents: no event is built, each request's hasher serves its events.
        var durable = (long)(_state.Head(experimentId)?.Sequence ?? 0);
        return new(Read<IReadOnlyList<byte[]>>($"the ledger of '{experimentId}' from event {start + 1}", session =>
        {
            var leaves = new List<byte[]>((int)(end - start));
            foreach (var document in session.EventsFrom(experimentId, (ulong)start + 1))
            {
                var stored = LedgerDocuments.Read(document);
                var from = (long)stored.FirstSequence - 1;
                if (from > start + leaves.Count)
                {
                    throw new InvalidDataException($"event {start + leaves.Count + 1} is missing: the ledger jumps to {from + 1}");
                }

                LedgerDocuments.LeafHashes(stored, (int)(start + leaves.Count - from), (int)Math.Min(stored.Count, Math.Min(end, durable) - from), leaves);
                if (leaves.Count == end - start || start + leaves.Count >= durable)
                {
                    break;
                }
            }

            return leaves.Count == end - start ? leaves : throw new InvalidDataException($"event {start + leaves.Count + 1} is missing");
        }));
    }

    /// <summary>
    /// The first leaf index below <paramref name="size"/> whose event was recorded at or after
    /// <paramref name="unixMs"/> (<paramref name="size"/> when none), found by a binary search over
    /// the events' times (right when times never go backwards in the log): the search
    /// <see cref="FindFirstEventAsync"/> starts its walk from, on its own (its test holds it against every event).
    /// </summary>
    public ValueTask<long> FirstLeafAtAsync(string experimentId, long unixMs, long size, CancellationToken cancellationToken) =>
        new(Read($"the ledger of '{experimentId}' at Unix time {unixMs} ms", session => FirstLeafAt(session, experimentId, unixMs, size)));

    /// <summary>The search and the walk through the events of one time straight over the packed documents: one event is built, the key's.</summary>
    public ValueTask<LedgerRecord?> FindFirstEventAsync(SeedKey key, long unixMs, long size, CancellationToken cancellationToken) =>
        new(Read($"the ledger of '{key.ExperimentId}' at Unix time {unixMs} ms", session =>
        {
            var leaf = FirstLeafAt(session, key.ExperimentId, unixMs, size);
            foreach (var document in session.EventsFrom(key.ExperimentId, (ulong)leaf + 1))
            {
                var stored = LedgerDocuments.Read(document);
                var first = (long)stored.FirstSequence - 1;
                if (leaf >= size)
                {
                    break;
                }

                if (first > leaf)
                {
                    throw new InvalidDataException($"event {leaf + 1} is missing: the ledger jumps to {first + 1}");
                }

                for (; leaf < Math.Min(size, first + stored.Count); leaf++)
                {
                    var e = stored.Event((int)(leaf - first));
                    if (stored.Time(e.Run) > unixMs)
                    {
                        return null;
                    }

                    // At the first issue time exactly: an earlier-timed event of the key is a later issue (a clock stepped back).
                    if (stored.Time(e.Run) == unixMs && e.Worker == key.Worker && stored.Columns[e.Column] == (key.Library, key.Stream))
                    {
                        return LedgerDocuments.ToRecords(document, (ulong)leaf + 1).First();
                    }
                }
            }

            return leaf >= size ? null : throw new InvalidDataException($"event {leaf + 1} is missing");
        }));

    /// <summary>The binary search a document at a time: each probe reads the document holding the middle event and narrows to its events' times.</summary>
    private static long FirstLeafAt(LiteSession session, string experimentId, long unixMs, long size)
    {
        long low = 0, high = size;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            var stored = session.EventsFrom(experimentId, (ulong)middle + 1).Select(LedgerDocuments.Read).FirstOrDefault();
            var first = stored is null ? -1 : (long)stored.FirstSequence - 1;
            if (stored is null || middle < first || middle >= first + stored.Count)
            {
                throw new InvalidDataException($"event {middle + 1} is missing");
            }

            // The document's events in the window; the answer is in it, before it or after it.
            var from = Math.Max(low, first);
            var to = Math.Min(high, first + stored.Count);
            long Time(long leaf) => stored.Time(stored.Event((int)(leaf - first)).Run);
            if (Time(to - 1) < unixMs)
            {
                low = to;
            }
            else if (Time(from) >= unixMs)
            {
                high = from;
            }
            else
            {
                while (Time(from) < unixMs)
                {
                    from++;
                }

                return from;
            }
        }

        return low;
    }

    public ValueTask<IReadOnlyList<LedgerRecord>> ListEventsAsync(string experimentId, ulong afterSequence, int limit, CancellationToken cancellationToken)
    {
        // LiteDB shows what is committed; the durable head (in memory, moved only after the fsync) cuts off what is not yet on disk.
        var durable = _state.Head(experimentId)?.Sequence ?? 0;
        return new(Read($"the ledger of '{experimentId}' after event {afterSequence}", session =>
        {
            var events = new List<LedgerRecord>(Math.Min(limit, 1024));
            var next = afterSequence + 1;
            foreach (var document in session.EventsFrom(experimentId, next))
            {
                foreach (var record in LedgerDocuments.ToRecords(document, next))
                {
                    var sequence = record.Entry.Sequence;
                    if (sequence > durable || events.Count == limit)
                    {
                        return (IReadOnlyList<LedgerRecord>)events;
                    }

                    if (sequence < next)
                    {
                        continue;
                    }

                    // Gap-free: a document an index lost, or one from elsewhere, is damage, not a shorter answer.
                    if (sequence != next)
                    {
                        throw new InvalidDataException($"event {next} is missing: the ledger jumps from event {next - 1} to {sequence}");
                    }

                    events.Add(record);
                    next++;
                }
            }

            return next > durable || events.Count == limit ? events
                : throw new InvalidDataException($"the ledger ends at event {next - 1}, and its head is event {durable}");
        }));
    }

    /// <summary>Makes what is pending durable, checkpoints the keys (so the next open reads no ledger tail), then closes the file (LiteDB checkpoints its log).</summary>
    public void Dispose()
    {
        _closed = true;
        _sync.Stop();
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
            _sync.Dispose();
            StoreLog.Closed(_logger, Location);
        }
    }

    /// <summary>After a refused start: closes the database and removes it when this open created it, so the start changed nothing.</summary>
    public void DisposeAfterRefusedStart()
    {
        _closed = true;
        _sync.Dispose();
        var session = _session;
        _session = null;
        session?.Abandon();
        if (Created)
        {
            LiteSession.DeleteCreated(_medium, Location, _logPath);
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
        _sync.WaitForAll();
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

                session.Experiments.Update(Documents.ToDocument(entry.Record, new ChainHead(entry.HeadSequence, entry.HeadHex), entry.Tree, entry.HeadSequence));
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

    /// <summary>The experiment documents a batch changes (new or updated), each with the key checkpoint the file holds for it.</summary>
    private static List<(BsonDocument Document, bool IsNew)> ExperimentDocuments(MemoryState state, PreparedBatch prepared) =>
        [.. prepared.Experiments.Values.Select(c => (Documents.ToDocument(c.Record, c.Head, c.Tree, c.IsNew ? 0 : state.CheckpointOf(c.Record.Id)), c.IsNew))];

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

        // The writer and readers alike may reopen: one at a time, and never once the store is closed.
        lock (_reopenGate)
        {
            return _session ?? (_closed ? throw new SeedDaemonException(ErrorKind.Unavailable, "The seed database is closed: seedd is stopping.") : Reopen());
        }
    }

    private LiteSession Reopen()
    {
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
            StoreLog.Reopened(_logger, Location);
            return reopened;
        }
        catch (Exception error)
        {
            throw StorageErrors.Translate(error);
        }
    }

    /// <summary>
    /// Drops a session after a failed write or fsync: its batches not yet durable fail (they may or may
    /// not be in the file, which, reopened on the next write, is the truth) and it writes nothing more.
    /// </summary>
    private void Abandon(LiteSession session, Exception cause)
    {
        bool current;
        lock (_sessionGate)
        {
            current = ReferenceEquals(_session, session);
            if (current)
            {
                _session = null;
            }
        }

        _sync.FailAll(session, cause);
        if (current)
        {
            session.Abandon();
            StoreLog.SessionAbandoned(_logger, Location, cause);
        }
    }
}
