extern alias daemon;

using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using daemon::SeedDaemon.Daemon;
using daemon::SeedDaemon.Daemon.Recording;
using daemon::SeedDaemon.Daemon.Storage.LiteDb;
using SeedDaemon.Derivation;

namespace SeedDaemon.Tests.Core;

/// <summary>
/// The group-commit writer and the embedded backend's fsync pipeline, in process over a simulated
/// disk whose fsync a test can hold: who waits for what, who fails with whom, and what reads see.
/// </summary>
public sealed class GroupCommitTests : IDisposable
{
    private const string DatabasePath = "/sim/core/seeds.db";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly RequestOrigin Origin = RequestOrigin.Anonymous("ipv4:127.0.0.1:1");

    private readonly SimulatedDisk _disk = new();
    private readonly CommitSizes _commits = new();
    private readonly SeedStore _store;

    public GroupCommitTests()
    {
        _store = new SeedStore(LiteDbBackend.Open(DatabasePath, NullLogger.Instance, _disk), maxBatch: 64, NullLogger.Instance, _commits);
        _store.CreateExperimentAsync(Experiment("core/exp"), rootGiven: true, default).WaitAsync(Patience).GetAwaiter().GetResult();
        _commits.Sizes.Clear();
    }

    public void Dispose()
    {
        _disk.FlushGate.Set();
        _store.Dispose();
    }

    [Fact]
    public async Task A_lone_request_is_committed_at_once_and_those_that_arrive_meanwhile_share_a_commit()
    {
        // The fsync is held: the lone request's commit reaches it without waiting for company.
        _disk.FlushGate.Reset();
        var lone = Issue(0);
        await Poll.UntilAsync(() => _disk.FlushesWaiting == 1, Patience);
        Assert.Equal(1, _disk.FlushesWaiting);

        // Twenty more arrive while that fsync hangs: one batch may be committed behind it and one more
        // taken up to wait for room (the writer runs while the test queues them, and on a loaded
        // machine it may take them a few at a time); the rest wait in the queue and go together.
        var more = Enumerable.Range(1, 20).Select(w => Issue((uint)w)).ToList();
        await Task.Delay(200);
        Assert.All(more, m => Assert.False(m.IsCompleted, "answered before its fsync"));
        _disk.FlushGate.Set();
        await Task.WhenAll(more.Append(lone)).WaitAsync(Patience);

        Assert.Equal(21, _commits.Sizes.Sum());
        Assert.Equal(1, _commits.Sizes.First());
        Assert.InRange(_commits.Sizes.Count, 2, 4);
    }

    [Fact]
    public async Task Reads_never_see_a_commit_before_it_is_durable()
    {
        _disk.FlushGate.Reset();
        var pending = Issue(7);
        await Poll.UntilAsync(() => _disk.FlushesWaiting == 1, Patience);

        // Committed to LiteDB's log, not yet fsynced: neither the key nor its event is visible.
        var key = new SeedKey("core/exp", 7, "torch", "");
        Assert.Null(await _store.Reader.FindSeedAsync(key, default));
        Assert.Empty(await _store.Reader.ListEventsAsync("core/exp", 0, 10, default));
        Assert.Equal(0ul, (await _store.Reader.GetChainHeadAsync("core/exp", default)).Sequence);

        // A second request for the key, planned against the overlay of the pending batch, counts it.
        var again = Issue(7);
        _disk.FlushGate.Set();
        Assert.Equal(1ul, (await pending.WaitAsync(Patience))[0].IssueCount);
        Assert.Equal(2ul, (await again.WaitAsync(Patience))[0].IssueCount);
        Assert.Equal(2ul, (await _store.Reader.FindSeedAsync(key, default))!.IssueCount);
        Assert.Equal(2, (await _store.Reader.ListEventsAsync("core/exp", 0, 10, default)).Count);
    }

    [Fact]
    public async Task A_refused_operation_fails_alone_and_a_failed_commit_fails_only_its_own_batch()
    {
        await Issue(1).WaitAsync(Patience);
        await _store.FreezeExperimentAsync("core/exp", default).WaitAsync(Patience);

        // In one batch: a key issued before the freeze (answered) and a new one (refused).
        _disk.FlushGate.Reset();
        var known = Issue(1);
        var refused = Issue(2);
        _disk.FlushGate.Set();
        Assert.Equal(2ul, (await known.WaitAsync(Patience))[0].IssueCount);
        var error = await Assert.ThrowsAsync<SeedDaemonException>(() => refused.WaitAsync(Patience));
        Assert.Equal(ErrorKind.FailedPrecondition, error.Kind);

        // A full disk fails the batch being written, and only it; the next one, with room, goes through.
        await _store.CreateExperimentAsync(Experiment("core/other"), rootGiven: true, default).WaitAsync(Patience);
        _disk.Capacity = _disk.UsedBytes;
        var full = await Assert.ThrowsAsync<SeedDaemonException>(() => Issue(3, "core/other").WaitAsync(Patience));
        Assert.Equal(ErrorKind.ResourceExhausted, full.Kind);
        _disk.Capacity = null;
        Assert.Equal(1ul, (await Issue(4, "core/other").WaitAsync(Patience))[0].IssueCount);
        Assert.Equal(2ul, (await _store.Reader.FindSeedAsync(new SeedKey("core/exp", 1, "torch", ""), default))!.IssueCount);
        Assert.Null(await _store.Reader.FindSeedAsync(new SeedKey("core/other", 3, "torch", ""), default));
    }

    [Fact]
    public async Task Shutdown_finishes_what_is_queued_and_refuses_what_comes_after()
    {
        _disk.FlushGate.Reset();
        var queued = Enumerable.Range(0, 10).Select(w => Issue((uint)w)).ToList();
        await Poll.UntilAsync(() => _disk.FlushesWaiting == 1, Patience);
        var closing = Task.Run(_store.Dispose);
        await Poll.UntilAsync(() => !_store.IsRunning, Patience);
        var late = await Assert.ThrowsAsync<SeedDaemonException>(() => Issue(99));
        Assert.Equal(ErrorKind.Unavailable, late.Kind);

        _disk.FlushGate.Set();
        await closing.WaitAsync(Patience);
        var answered = await Task.WhenAll(queued).WaitAsync(Patience);
        Assert.All(answered, a => Assert.Equal(1ul, a[0].IssueCount));

        using var reopened = EmbeddedStore.Open(DatabasePath, _disk);
        Assert.Equal(10, (await reopened.Reader.ListSeedsAsync("core/exp", null, 100, default)).Count);
    }

    private Task<IReadOnlyList<SeedRecord>> Issue(uint worker, string experimentId = "core/exp") =>
        _store.RecordIssuesAsync([new SeedIssue(new SeedKey(experimentId, worker, "torch", ""), SeedSeqV1.Derive(5, worker, "torch", "").Seed64)], Origin, default);

    private static ExperimentRecord Experiment(string id) =>
        new(id, 5, false, SeedSeqV1.Scheme, DateTime.UtcNow, false, new Dictionary<string, string>());

    /// <summary>The size of every group commit, as /metrics is told it.</summary>
    private sealed class CommitSizes : IRecordingObserver
    {
        public ConcurrentQueue<int> Sizes { get; } = new();

        public void Committed(int operations, TimeSpan duration) => Sizes.Enqueue(operations);

        public void Answered(TimeSpan waited)
        {
        }
    }
}
