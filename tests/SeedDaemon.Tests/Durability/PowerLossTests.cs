extern alias daemon;

using System.Collections.Concurrent;
using daemon::SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// The store over a disk that records what was flushed: the power is cut at random moments under
/// concurrent load, everything not flushed is discarded (or a random prefix of it kept, the last
/// write torn), and the store must reopen with every acknowledged record intact.
/// </summary>
public sealed class PowerLossTests(ITestOutputHelper output)
{
    private const string DatabasePath = "/sim/data/seeds.db";

    // Every step is bounded: a request that never completes fails the test instead of hanging the suite.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(PowerCut.DiscardUnflushed)]
    [InlineData(PowerCut.KeepPrefix)]
    [InlineData(PowerCut.TearLast)]
    public async Task No_acknowledged_record_is_lost_when_the_power_is_cut(PowerCut mode)
    {
        var seed = TestRandom.Seed();
        output.WriteLine($"random seed {seed}");
        var random = new Random(seed);
        var disk = new SimulatedDisk();
        var acknowledgedExperiments = new ConcurrentDictionary<string, UInt128>();
        var acknowledgedSeeds = new ConcurrentDictionary<(string, uint), ulong>();
        var nextWorker = 0;

        for (var cut = 0; cut < 25; cut++)
        {
            var store = await Task.Run(() => EmbeddedStore.Open(DatabasePath, disk)).WaitAsync(Patience);
            await VerifyAsync(store, acknowledgedExperiments, acknowledgedSeeds, $"after cut {cut} (random seed {seed})");

            var experimentId = $"power/exp-{cut}";
            var root = (UInt128)(ulong)random.NextInt64();
            await store.CreateExperimentAsync(new ExperimentRecord(experimentId, root, false, SeedSeqV1.Scheme, DateTime.UtcNow, false, new Dictionary<string, string>()), true, default).WaitAsync(Patience);
            acknowledgedExperiments[experimentId] = root;

            var live = disk;
            var acknowledgedBefore = acknowledgedSeeds.Count;
            using var stop = new CancellationTokenSource();
            var load = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var worker = (uint)Interlocked.Increment(ref nextWorker);
                    var issue = new SeedIssue(new SeedKey(experimentId, worker, "torch", ""), SeedSeqV1.Derive(root, worker, "torch", "").Seed64);
                    try
                    {
                        await store.RecordIssuesAsync([issue], RequestOrigin.Anonymous("test"), default);
                        acknowledgedSeeds[(experimentId, worker)] = issue.Seed64;
                    }
                    catch (Exception) when (live.PoweredOff)
                    {
                        return;
                    }
                }
            })).ToArray();

            // Counted, not slept: the cut comes a random moment after this round's first few answers, however slow the machine.
            await Poll.UntilAsync(() => acknowledgedSeeds.Count >= acknowledgedBefore + 5, Patience, TimeSpan.FromMilliseconds(1));
            await Task.Delay(random.Next(2, 40));
            disk = disk.CutPower(mode, random);
            await stop.CancelAsync();
            await Task.WhenAll(load).WaitAsync(Patience);
            try
            {
                await Task.Run(store.Dispose).WaitAsync(Patience);
            }
            catch (Exception error) when (error is not TimeoutException)
            {
                // The old disk is gone; closing it fails, as it would.
            }

            // LiteDB leaves failed transactions to the finalizer; the store must have defused them.
            await Task.Run(() =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }).WaitAsync(Patience);
        }

        using var final = EmbeddedStore.Open(DatabasePath, disk);
        await VerifyAsync(final, acknowledgedExperiments, acknowledgedSeeds, $"at the end (random seed {seed})");
        output.WriteLine($"{acknowledgedSeeds.Count} acknowledged seeds in {acknowledgedExperiments.Count} experiments survived 25 power cuts ({mode})");
        Assert.True(acknowledgedSeeds.Count > 100, "the load should have issued seeds between cuts");
    }

    [Fact]
    public async Task A_power_cut_at_any_write_of_a_clean_shutdown_loses_nothing()
    {
        // A store whose ledger is not yet checkpointed: closing it checkpoints the issued keys (one
        // transaction, fsynced) and copies LiteDB's log into the data file.
        var disk = new SimulatedDisk();
        var store = EmbeddedStore.Open(DatabasePath, disk);
        var roots = new Dictionary<string, UInt128> { ["close/a"] = 11, ["close/b"] = 12 };
        foreach (var (id, root) in roots)
        {
            await store.CreateExperimentAsync(new ExperimentRecord(id, root, false, SeedSeqV1.Scheme, DateTime.UtcNow, false, new Dictionary<string, string>()), true, default);
            for (uint first = 0; first < 600; first += 100)
            {
                await store.RecordIssuesAsync([.. Enumerable.Range((int)first, 100).Select(w => Issue(id, root, (uint)w))], RequestOrigin.Anonymous("test"), default);
            }

            await store.RecordIssuesAsync([Issue(id, root, 7), Issue(id, root, 7)], RequestOrigin.Anonymous("test"), default);
        }

        var open = disk.Files();
        var expected = await PowerCuts.ContentsAsync(store);
        var before = disk.Writes;
        store.Dispose();
        var writes = disk.Writes - before;
        Assert.True(writes > 5, $"closing wrote only {writes} times");

        var seed = TestRandom.Seed();
        var failures = await PowerCuts.AtEveryWriteAsync(open, DatabasePath, writes, (live, cut) =>
        {
            var reopened = EmbeddedStore.Open(DatabasePath, live);
            live.PowerOffAtWrite = live.Writes + cut;
            try
            {
                // A failed checkpoint is left to the next open; a failed close of LiteDB's own may throw.
                reopened.Dispose();
            }
            catch (Exception) when (live.PoweredOff)
            {
                // As it may.
            }

            Assert.True(live.PoweredOff, $"the close wrote fewer than {cut} times this time");
        }, expected, seed);
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        output.WriteLine($"closing writes {writes} times; each cut, all three ways, reopened whole (random seed {seed})");
    }

    private static SeedIssue Issue(string id, UInt128 root, uint worker) => new(new SeedKey(id, worker, "torch", ""), SeedSeqV1.Derive(root, worker, "torch", "").Seed64);

    private static async Task VerifyAsync(SeedStore store, ConcurrentDictionary<string, UInt128> experiments, ConcurrentDictionary<(string, uint), ulong> seeds, string when)
    {
        foreach (var (id, root) in experiments)
        {
            var experiment = await store.Reader.FindExperimentAsync(id, default);
            Assert.True(experiment is not null, $"experiment {id} lost {when}");
            Assert.Equal(root, experiment.Root);
            var stored = (await store.Reader.ListSeedsAsync(id, null, 1_000_000, default)).ToDictionary(s => s.Key.Worker, s => s.Seed64);
            foreach (var ((experimentId, worker), seed64) in seeds.Where(s => s.Key.Item1 == id))
            {
                Assert.True(stored.TryGetValue(worker, out var found), $"acknowledged seed ({experimentId}, {worker}) lost {when}");
                Assert.Equal(seed64, found);
            }
        }
    }
}
