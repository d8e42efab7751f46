using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// The issuance rules, applied to one group commit's operations in order, against the state the
/// backend holds plus what earlier operations of the same batch did:
/// <list type="bullet">
/// <item>create is idempotent for the same root (or none) and ALREADY_EXISTS for another root;</item>
/// <item>a frozen experiment answers keys already issued and refuses new ones (FAILED_PRECONDITION);</item>
/// <item>a key's first issue (time, requester) is decided once, its count counts every request;</item>
/// <item>a stored seed must equal the seed derived for its key (else the database is damaged);</item>
/// <item>every issued key adds one entry to its experiment's log: placed in its hash chain (sequence, previous hash, hash)
/// and its tree by <see cref="ChainAppender"/> in the same batch (<c>integrate</c>: the embedded store), or left
/// pending for the sequencer (PostgreSQL, whose replicas append to one experiment side by side).</item>
/// </list>
/// An operation is checked completely before it changes anything, so a refused one leaves no trace.
/// Planning has no effects of its own: a backend whose transaction has to be retried plans again.
/// </summary>
internal static partial class BatchPlanner
{
    /// <summary>
    /// Experiments created before the misspelled-library rule (seedd 1.1 and earlier) are exempt:
    /// their labels cannot be changed to declare a library, and an upgrade must not stop a fleet
    /// that already uses one of those names.
    /// </summary>
    private static readonly DateTime LibraryRuleSince = new(2026, 12, 6, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The experiments a batch reads or writes, in ordinal order (the order to lock them in).</summary>
    public static IReadOnlyList<string> ExperimentsOf(IReadOnlyList<StoreOperation> operations) =>
        operations.SelectMany(o => o switch
            {
                CreateExperimentOperation create => [create.Candidate.Id],
                FreezeExperimentOperation freeze => [freeze.ExperimentId],
                RecordIssuesOperation record => record.Issues.Select(i => i.Key.ExperimentId),
                RecordProcessOperation process => [process.Candidate.Key.ExperimentId],
                ReportFingerprintsOperation report => [report.Process.ExperimentId],
                _ => [],
            })
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>The keys a batch issues, each once.</summary>
    public static IReadOnlyList<SeedIssue> KeysOf(IReadOnlyList<StoreOperation> operations) =>
        operations.OfType<RecordIssuesOperation>().SelectMany(o => o.Issues)
            .DistinctBy(i => i.Key)
            .ToList();

    /// <param name="clock">The time (Unix ms) an operation's events are recorded at.</param>
    /// <param name="integrate">Place the entries in their logs now (<see cref="PreparedBatch.Appends"/>); else they are
    /// left in <see cref="PreparedBatch.Pending"/>, and the batch changes no chain head and no tree.</param>
    public static PreparedBatch Plan(IReadOnlyList<StoreOperation> operations, IBatchState state, Func<long> clock, bool integrate = true)
    {
        var plan = new Planning(state, operations.Sum(o => o is RecordIssuesOperation record ? record.Issues.Count : 0));
        foreach (var operation in operations)
        {
            try
            {
                _ = operation switch
                {
                    CreateExperimentOperation create => create.Accept(plan.Create(create)),
                    FreezeExperimentOperation freeze => freeze.Accept(plan.Freeze(freeze)),
                    RecordIssuesOperation record => (object)record.Accept(plan.Record(record, clock())),
                    RecordProcessOperation process => process.Accept(plan.RecordProcess(process)),
                    ReportFingerprintsOperation report => report.Accept(plan.Report(report)),
                    _ => throw new InvalidOperationException($"{operation.GetType().Name} does not belong in a batch."),
                };
                plan.Batch.Accepted.Add(operation);
            }
            catch (SeedDaemonException refused)
            {
                plan.Batch.Rejections.Add((operation, refused));
            }
        }

        plan.Finish(integrate);
        return plan.Batch;
    }

    /// <summary>One batch being planned: the backend's state overlaid with what the batch did so far.</summary>
    private sealed partial class Planning(IBatchState state, int expectedKeys)
    {
        private readonly Dictionary<string, Experiment> _experiments = new(StringComparer.Ordinal);
        private int _pendingCount;

        // A batch names few libraries: each is looked up once, not once per key (edit distances).
        private readonly Dictionary<string, string?> _closeCanonical = new(StringComparer.Ordinal);
        public PreparedBatch Batch { get; } = new(expectedKeys);

        private Dictionary<SeedKey, KeyChange> Keys => Batch.Keys;

        public ExperimentRecord Create(CreateExperimentOperation operation)
        {
            var candidate = operation.Candidate;
            if (Find(candidate.Id) is { } existing)
            {
                if (operation.RootGiven && existing.Record.Root != candidate.Root)
                {
                    throw new SeedDaemonException(ErrorKind.AlreadyExists, $"Experiment '{candidate.Id}' already exists with a different root; its root never changes. Use another experiment id.", "root");
                }

                return existing.Record;
            }

            _experiments[candidate.Id] = new Experiment(candidate, ChainHead.Genesis, new MerkleFrontier()) { Created = true };
            return candidate;
        }

        public ExperimentRecord Freeze(FreezeExperimentOperation operation)
        {
            var experiment = Find(operation.ExperimentId) ?? throw SeedDaemonException.ExperimentNotFound(operation.ExperimentId);
            if (!experiment.Record.Frozen)
            {
                experiment.Record = experiment.Record with { Frozen = true };
                experiment.Frozen = true;
            }

            return experiment.Record;
        }

        public SeedRecord[] Record(RecordIssuesOperation operation, long now)
        {
            var issues = operation.Issues;

            // Checks first: nothing is planned unless every key may be issued.
            for (var i = 0; i < issues.Count; i++)
            {
                var issue = issues[i];
                var key = issues[i].Key;
                var experiment = Find(key.ExperimentId)
                    ?? throw SeedDaemonException.ExperimentNotFound(key.ExperimentId, issues.Count == 1 ? "experiment_id" : $"requests[{i}].experiment_id");
                if (experiment.Record.Frozen && Key(key) is null)
                {
                    throw new SeedDaemonException(
                        ErrorKind.FailedPrecondition,
                        $"Experiment '{key.ExperimentId}' is frozen: key (worker {key.Worker}, library '{key.Library}', stream '{key.Stream}') was never issued and no new keys are issued. Keys already issued still answer.");
                }

                if (experiment.Record.CreateTime >= LibraryRuleSince && CloseCanonical(key.Library) is { } canonical
                    && !Libraries.IsDeclared(experiment.Record.Labels, key.Library) && Key(key) is null)
                {
                    throw SeedDaemonException.Invalid(
                        issues.Count == 1 ? "library" : $"requests[{i}].library",
                        $"library '{key.Library}' is not a canonical library; did you mean '{canonical}'? A misspelled library gets a seed that nothing applies. If '{key.Library}' is a library of its own, declare it when creating the experiment: label {Libraries.CustomLibrariesLabel}={key.Library}.");
                }
            }

            var records = new SeedRecord[issues.Count];
            var runs = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < issues.Count; i++)
            {
                var issue = issues[i];
                var key = issue.Key;
                if (Keys.TryGetValue(key, out var change))
                {
                    change.State = Again(change.State, issue);
                }
                else if (state.Key(key) is { } stored)
                {
                    Keys[key] = change = new KeyChange(key, Again(stored, issue), isNew: false);
                }
                else
                {
                    Keys[key] = change = new KeyChange(key, new KeyState(issue.Seed64, now, operation.Origin.Requester, 1), isNew: true);
                }

                var s = change.State;
                records[i] = new SeedRecord(key, s.Seed64, DateTimeOffset.FromUnixTimeMilliseconds(s.FirstIssueUnixMs).UtcDateTime, s.FirstRequester, s.IssueCount);
                Append(issue, operation.Origin, now, runs);
            }

            return records;
        }

        /// <summary>The stored record asked for once more; its seed must be the one derived for its key.</summary>
        private static KeyState Again(KeyState stored, SeedIssue issue) =>
            stored.Seed64 == issue.Seed64
                ? stored with { IssueCount = stored.IssueCount + 1 }
                : throw new InvalidDataException($"The stored seed of key ({issue.Key.ExperimentId}, {issue.Key.Worker}, {issue.Key.Library}, '{issue.Key.Stream}') is {stored.Seed64}, but seedseq-v1 derives {issue.Seed64}: the database is damaged or was written by another scheme.");

        /// <summary>The key's entry, after the experiment's entries so far: one run (time, origin) per request and experiment.</summary>
        private void Append(SeedIssue issue, RequestOrigin origin, long now, Dictionary<string, int> runs)
        {
            var key = issue.Key;
            var experiment = _experiments[key.ExperimentId];
            if (experiment.Pending is null)
            {
                // Sized for the whole batch once (most batches append to one experiment), never once per experiment.
                experiment.Pending = new PendingAppend(key.ExperimentId, _pendingCount++ == 0 ? Batch.ExpectedKeys : 0);
            }

            var pending = experiment.Pending;
            if (!runs.TryGetValue(key.ExperimentId, out var run))
            {
                pending.Runs.Add(new EventRun(now, origin));
                runs[key.ExperimentId] = run = pending.Runs.Count - 1;
            }

            pending.Entries.Add(new PendingEntry(run, key.Worker, key.Library, key.Stream, issue.Seed64));
        }

        /// <summary>Places each experiment's entries in its chain and tree (or leaves them pending) and lists every experiment the batch changed.</summary>
        public void Finish(bool integrate)
        {
            foreach (var (id, experiment) in _experiments)
            {
                var head = experiment.Head;
                var tree = experiment.StoredTree;
                if (experiment.Pending is { } pending)
                {
                    if (integrate)
                    {
                        tree = tree.Clone();
                        var append = ChainAppender.Append(pending, head, tree);
                        Batch.Appends.Add(append);
                        head = append.After;
                    }
                    else
                    {
                        Batch.Pending.Add(pending);
                    }
                }

                if (experiment.Created || experiment.Frozen || (integrate && experiment.Pending is not null))
                {
                    Batch.Experiments[id] = new ExperimentState(experiment.Record, head, tree, experiment.Created);
                }
            }
        }

        private Experiment? Find(string experimentId)
        {
            if (_experiments.TryGetValue(experimentId, out var experiment))
            {
                return experiment;
            }

            if (state.Experiment(experimentId) is not { } stored)
            {
                return null;
            }

            return _experiments[experimentId] = new Experiment(stored.Record, stored.Head, stored.Tree);
        }

        private string? CloseCanonical(string library)
        {
            if (!_closeCanonical.TryGetValue(library, out var canonical))
            {
                _closeCanonical[library] = canonical = Libraries.CloseCanonical(library);
            }

            return canonical;
        }

        private KeyState? Key(SeedKey key) =>
            Keys.TryGetValue(key, out var change) ? change.State : state.Key(key);

        private sealed class Experiment(ExperimentRecord record, ChainHead head, MerkleFrontier storedTree)
        {
            public ExperimentRecord Record { get; set; } = record;

            public ChainHead Head { get; } = head;

            /// <summary>The tree as the state holds it (not changed here).</summary>
            public MerkleFrontier StoredTree { get; } = storedTree;

            /// <summary>Created by this batch.</summary>
            public bool Created { get; init; }

            /// <summary>Frozen by this batch.</summary>
            public bool Frozen { get; set; }

            /// <summary>The entries this batch adds to the experiment's log, once it issues a key.</summary>
            public PendingAppend? Pending { get; set; }
        }
    }
}
