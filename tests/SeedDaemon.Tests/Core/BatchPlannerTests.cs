extern alias daemon;

using daemon::SeedDaemon.Daemon;
using daemon::SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;

namespace SeedDaemon.Tests.Core;

/// <summary>
/// The issuance rules (<see cref="BatchPlanner"/>) on their own, in memory: what a batch decides
/// from the state it is planned against, with no backend and no thread.
/// </summary>
public sealed class BatchPlannerTests
{
    private static readonly RequestOrigin Alice = new("alice", "ipv4:10.0.0.1:1", "node-1", 11, new Dictionary<string, string>());
    private static readonly RequestOrigin Bob = new("bob", "ipv4:10.0.0.2:1", "node-2", 22, new Dictionary<string, string>());

    [Fact]
    public void A_keys_first_issue_is_decided_once_and_its_count_counts_every_request()
    {
        var state = new PlainState().With("plan/a", root: 1);
        var first = Plan(state, 1_000, Issue("plan/a", 1, Alice, 3), Issue("plan/a", 1, Bob, 3));
        var (_, change) = Assert.Single(first.Keys);
        Assert.True(change.IsNew);
        Assert.Equal(new KeyState(Seed(1, 3), 1_000, "alice", 2), change.State);

        state.Apply(first);
        var again = Plan(state, 2_000, Issue("plan/a", 1, Bob, 3));
        change = Assert.Single(again.Keys).Value;
        Assert.False(change.IsNew);
        Assert.Equal(new KeyState(Seed(1, 3), 1_000, "alice", 3), change.State);
    }

    [Fact]
    public async Task Each_accepted_operation_answers_what_it_was_planned_with_once_completed()
    {
        var state = new PlainState().With("plan/answers", root: 9);
        var create = new CreateExperimentOperation(Experiment("plan/new", 5), rootGiven: true);
        var issue = Issue("plan/answers", 9, Alice, 0, 1);
        var batch = Plan(state, 7, create, issue);
        Assert.Equal([create, issue], batch.Accepted);
        Assert.False(issue.Completion.IsCompleted);

        foreach (var operation in batch.Accepted)
        {
            operation.Complete();
        }

        Assert.Equal("plan/new", (await create.Completion).Id);
        var records = await issue.Completion;
        Assert.Equal([0u, 1u], records.Select(r => r.Key.Worker));
        Assert.All(records, r => Assert.Equal(1ul, r.IssueCount));
    }

    [Fact]
    public void A_frozen_experiment_answers_issued_keys_and_refuses_new_ones_leaving_no_trace()
    {
        var state = new PlainState().With("plan/frozen", root: 2);
        state.Apply(Plan(state, 1, Issue("plan/frozen", 2, Alice, 0)));
        state.Apply(Plan(state, 2, new FreezeExperimentOperation("plan/frozen")));

        // Worker 0 was issued before the freeze; worker 1 never was: the whole request is refused.
        var mixed = Issue("plan/frozen", 2, Bob, 0, 1);
        var known = Issue("plan/frozen", 2, Bob, 0);
        var batch = Plan(state, 3, mixed, known);

        var (refused, error) = Assert.Single(batch.Rejections);
        Assert.Same(mixed, refused);
        Assert.Equal(ErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains("worker 1", error.Message, StringComparison.Ordinal);
        Assert.Equal([known], batch.Accepted);
        Assert.Equal(2ul, Assert.Single(batch.Keys).Value.State.IssueCount);
        Assert.Single(Assert.Single(batch.Appends).Events);
    }

    [Fact]
    public void Create_is_idempotent_for_the_same_root_and_ALREADY_EXISTS_for_another()
    {
        var state = new PlainState().With("plan/created", root: 42);
        var same = new CreateExperimentOperation(Experiment("plan/created", 42), rootGiven: true);
        var none = new CreateExperimentOperation(Experiment("plan/created", 77), rootGiven: false);
        var other = new CreateExperimentOperation(Experiment("plan/created", 43), rootGiven: true);
        var batch = Plan(state, 1, same, none, other);

        Assert.Equal([same, none], batch.Accepted);
        var (refused, error) = Assert.Single(batch.Rejections);
        Assert.Same(other, refused);
        Assert.Equal(ErrorKind.AlreadyExists, error.Kind);
        Assert.True(batch.IsEmpty, "finding an existing experiment writes nothing");
    }

    [Fact]
    public void An_experiment_created_in_a_batch_is_issued_from_in_the_same_batch()
    {
        var batch = Plan(new PlainState(), 5, new CreateExperimentOperation(Experiment("plan/fresh", 3), rootGiven: true), Issue("plan/fresh", 3, Alice, 8));
        Assert.Empty(batch.Rejections);
        Assert.True(batch.Experiments["plan/fresh"].IsNew);
        Assert.Equal(1ul, batch.Experiments["plan/fresh"].Head.Sequence);
    }

    [Fact]
    public void Chains_continue_across_batches_and_the_overlay_plans_as_if_the_earlier_batch_were_durable()
    {
        var state = new PlainState().With("plan/chain", root: 4);
        var first = Plan(state, 10, Issue("plan/chain", 4, Alice, 0, 1, 2));
        var firstAppend = Assert.Single(first.Appends);
        Assert.Equal([1ul, 2ul, 3ul], firstAppend.Events.Select(e => e.Sequence));
        Assert.Equal(LedgerHash.Genesis, firstAppend.BeforeHash);

        // Planned against the overlay (first committed, not yet durable) ...
        var overlaid = Plan(new OverlayState(state, [first]), 20, Issue("plan/chain", 4, Bob, 2, 3));

        // ... and against the state once it is durable: the same plan.
        state.Apply(first);
        var durable = Plan(state, 20, Issue("plan/chain", 4, Bob, 2, 3));
        foreach (var batch in new[] { overlaid, durable })
        {
            var append = Assert.Single(batch.Appends);
            Assert.Equal(3ul, append.Before.Sequence);
            Assert.Equal(firstAppend.Events[^1].Hash, append.BeforeHash);
            Assert.Equal([4ul, 5ul], append.Events.Select(e => e.Sequence));
            Assert.Equal(firstAppend.Events[^1].Hash, append.PreviousHash(0));
            Assert.Equal(append.Events[0].Hash, append.PreviousHash(1));
            Assert.Equal(LedgerHash.ToHex(append.Events[^1].Hash), append.After.Hash);
            Assert.Equal(2ul, batch.Keys[new SeedKey("plan/chain", 2, "torch", "")].State.IssueCount);
            Assert.True(batch.Keys[new SeedKey("plan/chain", 3, "torch", "")].IsNew);
        }

        Assert.Equal(overlaid.Appends[0].Events.Select(e => Convert.ToHexString(e.Hash)), durable.Appends[0].Events.Select(e => Convert.ToHexString(e.Hash)));
    }

    [Fact]
    public void A_stored_seed_that_is_not_the_derived_one_stops_the_batch_as_damage()
    {
        var state = new PlainState().With("plan/damaged", root: 6);
        state.Keys[new SeedKey("plan/damaged", 1, "torch", "")] = new KeyState(Seed(6, 1) ^ 1, 1, "alice", 1);
        var error = Assert.Throws<InvalidDataException>(() => Plan(state, 2, Issue("plan/damaged", 6, Bob, 1)));
        Assert.Contains("the database is damaged", error.Message, StringComparison.Ordinal);
    }

    private static PreparedBatch Plan(IBatchState state, long now, params StoreOperation[] operations) =>
        BatchPlanner.Plan(operations, state, () => now);

    private static RecordIssuesOperation Issue(string experimentId, UInt128 root, RequestOrigin origin, params uint[] workers) =>
        new([.. workers.Select(w => new SeedIssue(new SeedKey(experimentId, w, "torch", ""), Seed(root, w)))], origin);

    private static ulong Seed(UInt128 root, uint worker) => SeedSeqV1.Derive(root, worker, "torch", "").Seed64;

    [Fact]
    public async Task A_step_reported_again_is_a_repeat_when_equal_and_a_conflict_when_not_and_the_first_is_kept()
    {
        var state = new PlainState().With("plan/runs", root: 3);
        var process = new ProcessKey("plan/runs", "run-1", 4);
        var first = Report(process, (10, 1), (11, 2));
        state.Apply(Settled(Plan(state, 1_000, first)));
        Assert.Equal(new FingerprintReceipt(2, 0, 0), await first.Completion);
        Assert.Equal((10, 11, 2), (state.Processes[process].FirstStep, state.Processes[process].LastStep, state.Processes[process].Steps));

        var again = Report(process, (10, 1), (11, 9), (12, 3));
        var batch = Settled(Plan(state, 2_000, again));
        state.Apply(batch);
        Assert.Equal(new FingerprintReceipt(1, 1, 1), await again.Completion);
        Assert.Equal([(process, 12L)], batch.Fingerprints.Keys);
        Assert.Equal(2, state.Fingerprints[(process, 11)].Digests[0].Value[0]);
        var conflict = Assert.Single(state.Processes[process].Conflicts);
        Assert.Equal((11L, "rng.torch.cpu"), (conflict.Step, Assert.Single(conflict.Names)));
        Assert.Equal(1, state.Processes[process].ConflictCount);
    }

    [Fact]
    public async Task A_step_below_the_last_that_was_never_reported_is_refused_and_nothing_of_the_report_is_recorded()
    {
        var state = new PlainState().With("plan/backwards", root: 3);
        var process = new ProcessKey("plan/backwards", "run-1", 0);
        state.Apply(Settled(Plan(state, 1_000, Report(process, (5, 1), (7, 1)))));

        var backwards = Report(process, (6, 1), (8, 1));
        var batch = Settled(Plan(state, 2_000, backwards));
        Assert.True(batch.IsEmpty);
        var refused = await Assert.ThrowsAsync<SeedDaemonException>(() => backwards.Completion);
        Assert.Equal("steps[0].step", refused.Field);
        Assert.Contains("step 6 goes backwards", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reports_for_a_frozen_experiment_are_recorded_and_for_an_unknown_one_refused()
    {
        var state = new PlainState().With("plan/frozen", root: 3);
        state.Experiments["plan/frozen"] = state.Experiments["plan/frozen"] with { Record = state.Experiments["plan/frozen"].Record with { Frozen = true } };
        var frozen = Report(new ProcessKey("plan/frozen", "repro", 0), (1, 1));
        var unknown = Report(new ProcessKey("plan/none", "repro", 0), (1, 1));
        var batch = Settled(Plan(state, 1_000, frozen, unknown));
        Assert.Equal(new FingerprintReceipt(1, 0, 0), await frozen.Completion);
        Assert.Equal(ErrorKind.NotFound, (await Assert.ThrowsAsync<SeedDaemonException>(() => unknown.Completion)).Kind);
        Assert.Single(batch.Fingerprints);
    }

    /// <summary>Plans and answers every operation, as the group commit does once the batch is durable.</summary>
    private static PreparedBatch Settled(PreparedBatch batch)
    {
        batch.Accepted.ForEach(o => o.Complete());
        batch.Rejections.ForEach(r => r.Operation.Fail(r.Error));
        return batch;
    }

    private static ReportFingerprintsOperation Report(ProcessKey process, params (long Step, byte Value)[] steps) =>
        new(process, steps.Select(s => new StepFingerprint(s.Step, [new Digest("rng.torch.cpu", DigestKind.Generator, [s.Value])])).ToList(), 500);

    private static ExperimentRecord Experiment(string id, UInt128 root) =>
        new(id, root, false, SeedSeqV1.Scheme, DateTime.UnixEpoch, false, new Dictionary<string, string>());

    /// <summary>A backend's state in two dictionaries, with what a backend does once a batch is durable.</summary>
    private sealed class PlainState : IBatchState
    {
        public Dictionary<string, ExperimentState> Experiments { get; } = new(StringComparer.Ordinal);

        public Dictionary<SeedKey, KeyState> Keys { get; } = [];

        public PlainState With(string id, UInt128 root)
        {
            Experiments[id] = new ExperimentState(BatchPlannerTests.Experiment(id, root), ChainHead.Genesis, new SeedDaemon.Ledger.MerkleFrontier());
            return this;
        }

        public ExperimentState? Experiment(string experimentId) => Experiments.GetValueOrDefault(experimentId);

        public KeyState? Key(SeedKey key) => Keys.TryGetValue(key, out var state) ? state : null;

        public Dictionary<ProcessKey, ProcessRecord> Processes { get; } = [];

        public Dictionary<(ProcessKey, long), StepFingerprint> Fingerprints { get; } = [];

        public ProcessRecord? Process(ProcessKey key) => Processes.GetValueOrDefault(key);

        public StepFingerprint? Fingerprint(ProcessKey key, long step) => Fingerprints.GetValueOrDefault((key, step));

        public void Apply(PreparedBatch batch)
        {
            foreach (var (id, changed) in batch.Experiments)
            {
                Experiments[id] = changed with { IsNew = false };
            }

            foreach (var (key, change) in batch.Keys)
            {
                Keys[key] = change.State;
            }

            foreach (var (key, process) in batch.Processes)
            {
                Processes[key] = process;
            }

            foreach (var (key, fingerprint) in batch.Fingerprints)
            {
                Fingerprints[key] = fingerprint;
            }
        }
    }
}
