extern alias daemon;

using daemon::SeedDaemon.Daemon;
using daemon::SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// A commit that fails while the previous batch's fsync is still running: the failure drops the
/// session and fails what it had not made durable; the fsync, when it returns, must then neither
/// crash the process (CI saw exactly this once, under a power-cut test) nor drop, answer or fail
/// batches it no longer holds, or those of the session opened since; and once the disk has room
/// again the store serves on with every record it wrote.
/// </summary>
public sealed class FailedWriteDuringFsyncTests
{
    private const string DatabasePath = "/sim/race/seeds.db";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_commit_failing_while_an_fsync_runs_fails_its_batches_and_the_store_serves_on(bool thatFsyncSucceeds)
    {
        var disk = new SimulatedDisk();
        var store = EmbeddedStore.Open(DatabasePath, disk);
        var root = (UInt128)7;
        await store.CreateExperimentAsync(new ExperimentRecord("race/exp", root, false, SeedSeqV1.Scheme, DateTime.UtcNow, false, new Dictionary<string, string>()), true, default);

        // The first batch is committed and its fsync hangs.
        disk.FlushGate.Reset();
        var first = Issue(store, root, worker: 1);
        await Poll.UntilAsync(() => disk.FlushesWaiting == 1, Patience);
        Assert.True(disk.FlushesWaiting == 1, "the first batch's fsync never started");

        // The second batch is committed behind it, on a full disk: the commit fails and drops the session.
        disk.Capacity = disk.UsedBytes;
        var second = Issue(store, root, worker: 2);
        await Assert.ThrowsAsync<SeedDaemonException>(() => second.WaitAsync(Patience));

        // The first was failed with it: nobody may count on a batch of a dropped session.
        await Assert.ThrowsAsync<SeedDaemonException>(() => first.WaitAsync(Patience));

        // Space is back: the next batch reopens the file and is committed in a new session, while the
        // old session's fsync still hangs.
        disk.Capacity = null;
        var third = Issue(store, root, worker: 3);
        await Poll.UntilAsync(() => AwaitingFsync(store) == 1, Patience);
        Assert.True(AwaitingFsync(store) == 1, "the batch after the failure was never committed");

        // Now that fsync returns (succeeded or failed) for batches the pipeline no longer holds; the
        // new session's batch must still be made durable and answered.
        disk.FailNextFlush = !thatFsyncSucceeds;
        disk.FlushGate.Set();
        var answered = await third.WaitAsync(Patience);
        Assert.Equal(1ul, answered[0].IssueCount);

        // The first batch reached the file before the failure (and, in memory, survived its failed
        // fsync): reopened, the store has it, once.
        var again = await Issue(store, root, worker: 1).WaitAsync(Patience);
        Assert.Equal(SeedSeqV1.Derive(root, 1, "torch", "").Seed64, again[0].Seed64);
        Assert.Equal(2ul, again[0].IssueCount);
        await Task.Run(store.Dispose).WaitAsync(Patience);

        using var reopened = EmbeddedStore.Open(DatabasePath, disk);
        var seeds = await reopened.Reader.ListSeedsAsync("race/exp", null, 10, default);
        Assert.Equal([1u, 3u], seeds.Select(s => s.Key.Worker));
        var head = await reopened.Reader.GetChainHeadAsync("race/exp", default);
        var events = await reopened.Reader.ListEventsAsync("race/exp", 0, 10, default);
        Assert.Equal([1u, 3u, 1u], events.Select(e => e.Entry.Worker));
        Assert.Equal([1ul, 2ul, 3ul], events.Select(e => e.Entry.Sequence));
        Assert.Equal(3ul, head.Sequence);
    }

    private static double AwaitingFsync(SeedStore store) => store.Statistics.Gauges["seedd_commits_awaiting_fsync"];

    private static Task<IReadOnlyList<SeedRecord>> Issue(SeedStore store, UInt128 root, uint worker) =>
        store.RecordIssuesAsync([new SeedIssue(new SeedKey("race/exp", worker, "torch", ""), SeedSeqV1.Derive(root, worker, "torch", "").Seed64)], RequestOrigin.Anonymous("test"), default);
}
