extern alias daemon;

using Microsoft.Extensions.Logging.Abstractions;
using daemon::SeedDaemon.Daemon;
using daemon::SeedDaemon.Daemon.Recording;
using daemon::SeedDaemon.Daemon.Storage.LiteDb;
using daemon::SeedDaemon.Daemon.Storage.Postgres;
using SeedDaemon.Derivation;
using SeedDaemon.Testing;

namespace SeedDaemon.Tests.Core;

/// <summary>
/// A key's first event, which a proof by key proves: on LiteDB found from the key's first issue time
/// (a binary search a document at a time for the first event at or after it, then a walk), on
/// PostgreSQL read from the key's index. Held against the events themselves, read back one by one,
/// for a log of many documents (single events, batches that share a time, one longer than a
/// PostgreSQL page, batches that span two documents); LiteDB's search also for every time before,
/// between and after them.
/// </summary>
public sealed class FirstLeafSearchTests
{
    private static readonly RequestOrigin Origin = RequestOrigin.Anonymous("ipv4:127.0.0.1:1");

    [Theory]
    [InlineData("litedb")]
    [InlineData("postgres")]
    public async Task Finds_each_keys_first_event_and_on_LiteDB_the_first_event_at_or_after_every_time_as_reading_every_event_does(string backend)
    {
        const string id = "core/search";
        using var folder = new TempFolder();
        var database = backend == "postgres" ? await (await PostgresCluster.SharedAsync()).CreateDatabaseAsync("search") : null;
        IStoreBackend opened = database is null
            ? LiteDbBackend.Open(folder.File("seeds.db"), NullLogger.Instance)
            : PostgresBackend.Open((await PostgresCluster.SharedAsync()).ConnectionString(database), TestLedgerKey.VerifierKey, NullLogger.Instance);
        using var store = new SeedStore(opened, maxBatch: 64, NullLogger.Instance);
        await store.CreateExperimentAsync(new ExperimentRecord(id, 5, false, SeedSeqV1.Scheme, DateTime.UtcNow, false, new Dictionary<string, string>()), rootGiven: true, default);
        uint worker = 0;
        foreach (var size in new[] { 1, 1, 300, 1, 2500, 1, 1, 1024, 7, 9000, 1 })
        {
            await store.RecordIssuesAsync([.. Enumerable.Range(0, size).Select(_ => Issue(id, worker++))], Origin, default);
            await Task.Delay(3);
        }

        // Keys asked again later: their first event stays the one to find.
        await store.RecordIssuesAsync([Issue(id, 2), Issue(id, 1500), Issue(id, worker - 1)], Origin, default);
        await Poll.ForAsync(async () => await store.Reader.WaitForIntegrationAsync(id, default), TimeSpan.FromSeconds(60), "the sequencer to place the entries");
        var events = await store.Reader.ListEventsAsync(id, 0, 100_000, default);
        var times = events.Select(e => e.Entry.TimeUnixMilliseconds).ToList();
        Assert.Equal((int)worker + 3, times.Count);
        Assert.True(times.Distinct().Count() >= 10, "the requests should have been recorded at different times");
        var probes = times.Distinct().SelectMany(t => new[] { t - 1, t, t + 1 }).Append(0).Append(long.MaxValue).Distinct();
        foreach (var time in opened is LiteDbBackend ? probes : [])
        {
            var lite = (LiteDbBackend)opened;
            foreach (var size in new[] { times.Count, 305, 1 })
            {
                var expected = times.Take(size).TakeWhile(t => t < time).Count();
                Assert.Equal(expected, await lite.FirstLeafAtAsync(id, time, size, default));
            }
        }

        // A key's first event, from its first issue time: the first of the events with its worker.
        foreach (var w in Enumerable.Range(0, (int)worker).Where(w => w % 37 == 0 || w is 1 or 2 or 1500 || w >= worker - 2))
        {
            var first = events.First(e => e.Entry.Worker == w);
            var found = await store.Reader.FindFirstEventAsync(new SeedKey(id, (uint)w, "torch", ""), first.Entry.TimeUnixMilliseconds, events.Count, default);
            Assert.Equal(first.Entry.Sequence, found?.Entry.Sequence);
            Assert.Equal(first.Hash, found!.Hash);
            Assert.Null(await store.Reader.FindFirstEventAsync(new SeedKey(id, (uint)w, "numpy", ""), first.Entry.TimeUnixMilliseconds, events.Count, default));
        }

        var last = events.First(e => e.Entry.Worker == worker - 1);
        Assert.Null(await store.Reader.FindFirstEventAsync(new SeedKey(id, worker - 1, "torch", ""), last.Entry.TimeUnixMilliseconds, (long)last.Entry.Sequence - 1, default));

        if (database is not null)
        {
            // PostgreSQL finds the key's lowest sequence by its index: with its first event lost, the key's repeat is not taken for it.
            var key = events.First(e => e.Entry.Worker == 1500);
            await (await PostgresCluster.SharedAsync()).ExecuteAsync(database, $"DELETE FROM seedd_ledger_events WHERE sequence = {key.Entry.Sequence}");
            Assert.Null(await store.Reader.FindFirstEventAsync(new SeedKey(id, 1500, "torch", ""), key.Entry.TimeUnixMilliseconds, events.Count, default));
        }
    }

    private static SeedIssue Issue(string id, uint worker) =>
        new(new SeedKey(id, worker, "torch", ""), SeedSeqV1.Derive(5, worker, "torch", "").Seed64);
}
