using System.Collections.Concurrent;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation.Ledger;

using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// Everything the embedded store knows durably, in memory: experiments with their chain heads, and
/// each experiment's issued keys (<see cref="KeyProjection"/>). The planner reads it (with the batches
/// not yet durable over it) and reads answer from it. It changes only once a batch is durable
/// (<see cref="ApplyDurable"/>, under the write lock), so nobody sees a commit before it is on disk.
/// Rebuilt from the file at open (<see cref="StateLoader"/>).
/// </summary>
internal sealed class MemoryState(LiteSession session) : IBatchState, IDisposable
{
    // Processes of runs, durable ones only (few: one per process of a run); fingerprints stay in the file.
    private readonly ConcurrentDictionary<ProcessKey, ProcessRecord> _processes = new();

    private readonly Dictionary<string, ExperimentEntry> _experiments = new(StringComparer.Ordinal);

    // The records again, readable without the lock: every GetSeed looks its experiment up here.
    private readonly ConcurrentDictionary<string, ExperimentRecord> _records = new(StringComparer.Ordinal);
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);

    public InternTable<(string Library, string Stream)> Columns { get; } = new();

    public InternTable<string> Requesters { get; } = new(StringComparer.Ordinal);

    /// <summary>Ledger events applied since the last checkpoint of the key projection (all experiments).</summary>
    public long TailEvents { get; set; }

    public int ExperimentCount => _records.Count;

    public long KeyCount { get; private set; }

    /// <summary>The experiments, for the group-commit thread (checkpoints).</summary>
    public IEnumerable<ExperimentEntry> Entries => _experiments.Values;

    /// <summary>The ledger sequence an experiment's checkpointed keys reflect (0 for one not yet durable).</summary>
    public ulong CheckpointOf(string experimentId) => _experiments.TryGetValue(experimentId, out var entry) ? entry.CheckpointSequence : 0;

    ExperimentState? IBatchState.Experiment(string experimentId) =>
        _experiments.TryGetValue(experimentId, out var entry) ? new ExperimentState(entry.Record, new ChainHead(entry.HeadSequence, entry.HeadHex), entry.Tree) : null;

    KeyState? IBatchState.Key(SeedKey key)
    {
        if (!_experiments.TryGetValue(key.ExperimentId, out var entry) || !Columns.TryFind((key.Library, key.Stream), out var column) || !entry.Keys.TryFind(key.Worker, column, out var position))
        {
            return null;
        }

        ref var record = ref entry.Keys.At(position);
        return new KeyState(record.Seed64, record.FirstIssueUnixMs, Requesters[record.FirstRequester], record.IssueCount);
    }

    ProcessRecord? IBatchState.Process(ProcessKey key) => _processes.GetValueOrDefault(key);

    /// <summary>
    /// From the file: a step at or below a process's last was written by a batch that is durable or
    /// still waiting for its fsync (whose fingerprints the overlay finds first), never by a failed one
    /// (a failed batch drops the session, and this state with it).
    /// </summary>
    /// <summary>New steps in the block of the last step are appended to its document at commit: it is read (and checked) now.</summary>
    void IBatchState.CheckAppend(ProcessKey key, long lastStep, long firstNewStep)
    {
        var block = FingerprintBlocks.Of(lastStep);
        if (FingerprintBlocks.Of(firstNewStep) == block && ReadForReport(() => session.FindBlock(key, block), Refusal) is null)
        {
            throw Refusal("it is missing");
        }

        SeedDaemonException Refusal(string problem) => new(ErrorKind.DataLoss, $"The block of fingerprints that holds step {lastStep} of worker {key.Worker} of run '{key.RunId}', which this report's steps would join, cannot be read ({problem}); nothing of this report was recorded. 'seedctl store check' lists all damage; restore the database from a backup.");
    }

    StepFingerprint? IBatchState.Fingerprint(ProcessKey key, long step) =>
        ReadForReport(() => session.FindFingerprint(key, step, _processes.TryGetValue(key, out var process) ? process.LastStep : -1), problem => new SeedDaemonException(ErrorKind.Unavailable, $"the fingerprint of worker {key.Worker} of run '{key.RunId}' at step {step} could not be read back to compare a repeated report with it ({problem}); nothing of this report was recorded."));

    /// <summary>A read of the file while a report is planned: a failure refuses this report alone (the batch's other operations, seeds too, go on).</summary>
    private static T ReadForReport<T>(Func<T> read, Func<string, SeedDaemonException> refusal)
    {
        try
        {
            return read();
        }
        catch (Exception error) when (error is IOException or LiteDB.LiteException or ObjectDisposedException or InvalidDataException)
        {
            throw refusal(error.Message);
        }
    }

    /// <summary>A process read from the file (at open, before anyone reads).</summary>
    public void LoadProcess(ProcessRecord process) => _processes[process.Key] = process;

    public ProcessRecord? FindProcess(ProcessKey key) => _processes.GetValueOrDefault(key);

    /// <summary>The durable processes of one experiment's runs (of one run when <paramref name="runId"/> is given), by run and worker.</summary>
    public IReadOnlyList<ProcessRecord> Processes(string experimentId, string? runId) =>
        _processes.Values.Where(p => p.Key.ExperimentId == experimentId && (runId is null || p.Key.RunId == runId))
            .OrderBy(p => p.Key.RunId, StringComparer.Ordinal).ThenBy(p => p.Key.Worker).ToList();

    /// <summary>An experiment read from the file (at open, before anyone reads).</summary>
    public ExperimentEntry Load(ExperimentRecord record, ChainHead head, MerkleFrontier tree, ulong checkpointSequence)
    {
        var entry = new ExperimentEntry(record, head, tree, checkpointSequence);
        _experiments[record.Id] = entry;
        _records[record.Id] = record;
        return entry;
    }

    /// <summary>One ledger event of the tail after the last checkpoint, replayed at open: the key's first issue, or one more issue.</summary>
    public void Replay(ExperimentEntry entry, uint worker, string library, string stream, ulong seed64, long time, string requester)
    {
        var column = Columns.GetOrAdd((library, stream));
        if (entry.Keys.TryFind(worker, column, out var position))
        {
            ref var record = ref entry.Keys.At(position);
            if (record.Seed64 != seed64)
            {
                throw new InvalidDataException($"the ledger of '{entry.Record.Id}' gives key ({worker}, {library}, '{stream}') seed {seed64}, its record {record.Seed64}: the file is damaged");
            }

            entry.Keys.SetCount(position, record.IssueCount + 1);
        }
        else
        {
            AddKey(entry, worker, column, seed64, time, requester, 1);
        }

        TailEvents++;
    }

    /// <summary>A key of a checkpointed chunk, in insertion order (at open).</summary>
    public void LoadKey(ExperimentEntry entry, uint worker, int column, ulong seed64, long firstIssue, string requester, ulong count) =>
        AddKey(entry, worker, column, seed64, firstIssue, requester, count);

    /// <summary>
    /// Holds off <see cref="ApplyDurable"/> while the group-commit thread plans a batch against this state
    /// and the batches still waiting for their fsync (which are applied, and dropped from that list, together).
    /// </summary>
    public T Planning<T>(Func<T> plan) => Read(plan);

    /// <summary>What durable batches changed, in order, and <paramref name="then"/> under the same lock. The only change to the state after open.</summary>
    public void ApplyDurable(IReadOnlyList<PreparedBatch> batches, Action then)
    {
        _lock.EnterWriteLock();
        try
        {
            foreach (var batch in batches)
            {
                Apply(batch);
            }

            then();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private void Apply(PreparedBatch batch)
    {
        foreach (var (id, change) in batch.Experiments)
        {
            if (change.IsNew)
            {
                Load(change.Record, change.Head, change.Tree, 0);
            }
            else
            {
                var entry = _experiments[id];
                entry.Record = change.Record;
                entry.SetHead(change.Head, change.Tree);
                _records[id] = change.Record;
            }
        }

        foreach (var (key, change) in batch.Keys)
        {
            var entry = _experiments[key.ExperimentId];
            var column = Columns.GetOrAdd((key.Library, key.Stream));
            if (change.IsNew)
            {
                AddKey(entry, key.Worker, column, change.State.Seed64, change.State.FirstIssueUnixMs, change.State.FirstRequester, change.State.IssueCount);
            }
            else
            {
                entry.Keys.TryFind(key.Worker, column, out var position);
                entry.Keys.SetCount(position, change.State.IssueCount);
            }
        }

        foreach (var append in batch.Appends)
        {
            TailEvents += append.Events.Count;
        }

        foreach (var (key, process) in batch.Processes)
        {
            _processes[key] = process;
        }
    }

    public ExperimentRecord? Find(string experimentId) => _records.TryGetValue(experimentId, out var record) ? record : null;

    public IReadOnlyList<ExperimentRecord> ListExperiments(string? afterId, int limit) =>
        _records.Values
            .Where(e => afterId is null || string.CompareOrdinal(e.Id, afterId) > 0)
            .OrderBy(e => e.Id, StringComparer.Ordinal)
            .Take(limit)
            .ToList();

    /// <summary>The experiment's durable tree (shared: never changed, replaced by the next durable batch); null when it does not exist.</summary>
    public MerkleFrontier? Tree(string experimentId) =>
        Read(() => _experiments.TryGetValue(experimentId, out var entry) ? entry.Tree : null);

    public ChainHead? Head(string experimentId) =>
        Read(() => _experiments.TryGetValue(experimentId, out var entry) ? new ChainHead(entry.HeadSequence, entry.HeadHex) : (ChainHead?)null);

    public SeedRecord? FindSeed(SeedKey key) =>
        Read(() => _experiments.TryGetValue(key.ExperimentId, out var entry) && Columns.TryFind((key.Library, key.Stream), out var column) && entry.Keys.TryFind(key.Worker, column, out var position)
            ? ToSeed(entry, position)
            : null);

    /// <summary>A page of an experiment's keys in (worker, library, stream) order, after the cursor.</summary>
    public IReadOnlyList<SeedRecord> ListSeeds(string experimentId, SeedCursor? after, int limit)
    {
        var snapshot = Read(() => _experiments.TryGetValue(experimentId, out var entry) ? (entry, entry.Keys.SnapshotForOrder(Columns)) : default);
        if (snapshot.entry is null)
        {
            return [];
        }

        var order = snapshot.entry.Keys.Order(snapshot.Item2);
        var start = after is { } cursor ? order.After(cursor.Worker, cursor.Library, cursor.Stream) : 0;
        var end = Math.Min(order.Count, start + limit);
        return Read(() =>
        {
            var page = new List<SeedRecord>(Math.Max(0, end - start));
            for (var i = start; i < end; i++)
            {
                page.Add(ToSeed(snapshot.entry, order.Positions[i]));
            }

            return page;
        });
    }

    public void Dispose() => _lock.Dispose();

    private SeedRecord ToSeed(ExperimentEntry entry, int position)
    {
        ref var record = ref entry.Keys.At(position);
        var (library, stream) = Columns[record.Column];
        return new SeedRecord(new SeedKey(entry.Record.Id, record.Worker, library, stream), record.Seed64,
            DateTimeOffset.FromUnixTimeMilliseconds(record.FirstIssueUnixMs).UtcDateTime, Requesters[record.FirstRequester], record.IssueCount);
    }

    private void AddKey(ExperimentEntry entry, uint worker, int column, ulong seed64, long firstIssue, string requester, ulong count)
    {
        entry.Keys.Add(new KeyRecord
        {
            Worker = worker,
            Column = column,
            Seed64 = seed64,
            FirstIssueUnixMs = firstIssue,
            FirstRequester = Requesters.GetOrAdd(requester),
            IssueCount = count,
        });
        KeyCount++;
    }

    private T Read<T>(Func<T> read)
    {
        _lock.EnterReadLock();
        try
        {
            return read();
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }
}

/// <summary>One experiment in memory: its record, its chain head and tree, its checkpoint, its keys.</summary>
internal sealed class ExperimentEntry(ExperimentRecord record, ChainHead head, MerkleFrontier tree, ulong checkpointSequence)
{
    /// <summary>The tree's right edge at <see cref="HeadSequence"/> leaves (replaced, never changed).</summary>
    public MerkleFrontier Tree { get; private set; } = tree;

    public ExperimentRecord Record { get; set; } = record;

    public ulong HeadSequence { get; private set; } = head.Sequence;

    public string HeadHex { get; private set; } = head.Hash;

    /// <summary>The ledger sequence the checkpointed key chunks in the file reflect.</summary>
    public ulong CheckpointSequence { get; set; } = checkpointSequence;

    public KeyProjection Keys { get; } = new();

    public void SetHead(ChainHead head, MerkleFrontier tree)
    {
        Tree = tree;
        HeadSequence = head.Sequence;
        HeadHex = head.Hash;
    }
}
