using SeedDaemon.V1;

namespace SeedDaemon.Tests.Conformance;

/// <summary>
/// A request's events are stored together (up to 1,024 to a document): listings, paging, filters and
/// verification see one event per key, in chain order, however the documents are cut.
/// </summary>
public abstract class LedgerPagingTests<TDaemon>(TDaemon daemon) : IClassFixture<TDaemon>
    where TDaemon : ConformanceDaemon
{
    [Fact]
    public async Task Events_of_large_batches_list_and_page_one_per_key_in_chain_order()
    {
        const string id = "ledger/paging";
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "5" });

        // What was asked, in order: one key, 2,100 keys (repeats included: three documents), one key,
        // 1,025 keys (two documents).
        var asked = new List<(uint Worker, string Library)> { (9, "torch") };
        await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = 9, Library = "torch" });
        asked.AddRange(await Batch(Enumerable.Range(0, 2100).Select(i => ((uint)(i % 1600), i % 2 == 0 ? "numpy" : "python"))));
        asked.Add((9, "torch"));
        await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = 9, Library = "torch" });
        asked.AddRange(await Batch(Enumerable.Range(5000, 1025).Select(i => ((uint)i, "torch"))));

        var events = await daemon.Audit.EventsAsync(id, pageSize: 97);

        Assert.Equal(asked.Count, events.Count);
        Assert.Equal(Enumerable.Range(1, asked.Count).Select(i => (ulong)i), events.Select(e => e.Sequence));
        Assert.Equal(asked, events.Select(e => (e.Worker, e.Library)));
        for (var i = 1; i < events.Count; i++)
        {
            Assert.Equal(events[i - 1].Hash, events[i].PrevHash);
        }

        Assert.Equal(new string('0', 64), events[0].PrevHash);
        Assert.Equal(events.Count, events.Select(e => e.Hash).Distinct().Count());
        Assert.All(events, e => Assert.Equal(64, e.Hash.Length));

        // A filter that keeps a few events scattered over several documents.
        var worker9 = await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = id, WorkerMin = 9, WorkerMax = 9 });
        Assert.Equal(asked.Select((a, i) => (a, i)).Where(x => x.a.Worker == 9).Select(x => (ulong)(x.i + 1)), worker9.Events.Select(e => e.Sequence));

        var verified = await daemon.Audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = id });
        Assert.True(verified.Ok, verified.Reason);
        Assert.Equal((ulong)asked.Count, verified.EventsChecked);
        Assert.Equal(events[^1].Hash, verified.ChainHead.Hash);

        async Task<IEnumerable<(uint, string)>> Batch(IEnumerable<(uint Worker, string Library)> keys)
        {
            var request = new BatchGetSeedsRequest();
            request.Requests.AddRange(keys.Select(k => new GetSeedRequest { ExperimentId = id, Worker = k.Worker, Library = k.Library }));
            await daemon.Seeds.BatchGetSeedsAsync(request);
            return request.Requests.Select(r => (r.Worker, r.Library)).ToList();
        }
    }

    [Fact]
    public async Task A_batch_over_two_experiments_keeps_each_chain_whole()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ledger/two-a", Root = "1" });
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ledger/two-b", Root = "2" });
        var request = new BatchGetSeedsRequest();
        for (uint w = 0; w < 300; w++)
        {
            request.Requests.Add(new GetSeedRequest { ExperimentId = w % 3 == 0 ? "ledger/two-b" : "ledger/two-a", Worker = w, Library = "torch" });
        }

        await daemon.Seeds.BatchGetSeedsAsync(request);

        foreach (var (experiment, count) in new[] { ("ledger/two-a", 200), ("ledger/two-b", 100) })
        {
            var listed = await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = experiment, PageSize = 1000 });
            Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), listed.Events.Select(e => e.Sequence));
            Assert.Equal(request.Requests.Where(r => r.ExperimentId == experiment).Select(r => r.Worker), listed.Events.Select(e => e.Worker));
            var verified = await daemon.Audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = experiment });
            Assert.True(verified.Ok, verified.Reason);
        }
    }
}
