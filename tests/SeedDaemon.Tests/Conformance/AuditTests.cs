using Grpc.Core;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Conformance;

public abstract class AuditTests<TDaemon>(TDaemon daemon) : IClassFixture<TDaemon>
    where TDaemon : ConformanceDaemon
{
    [Fact]
    public async Task ListIssuedSeeds_pages_in_worker_library_stream_order()
    {
        const string id = "audit/list";
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "99" });

        // A neighbouring experiment whose id extends this one must not leak into the listing.
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id + ".b", Root = "99" });
        await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id + ".b", Worker = 1, Library = "torch" });

        var batch = new BatchGetSeedsRequest();
        foreach (var worker in new uint[] { 300, 2, 70000, 2, 0 })
        {
            foreach (var (library, stream) in new[] { ("torch", ""), ("numpy", "dataloader"), ("numpy", "") })
            {
                batch.Requests.Add(new GetSeedRequest { ExperimentId = id, Worker = worker, Library = library, Stream = stream });
            }
        }

        var issued = await daemon.Seeds.BatchGetSeedsAsync(batch);

        var listed = await daemon.Audit.IssuedSeedsAsync(id, pageSize: 4);

        Assert.Equal(12, listed.Count);
        var expectedOrder = listed
            .OrderBy(s => s.Worker)
            .ThenBy(s => s.Library, StringComparer.Ordinal)
            .ThenBy(s => s.Stream, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expectedOrder, listed);
        Assert.All(listed, s => Assert.Equal(id, s.ExperimentId));
        Assert.Equal(2ul, listed.Single(s => s.Worker == 2 && s.Library == "torch").IssueCount);

        foreach (var seed in listed)
        {
            var original = issued.Seeds.First(s => s.Worker == seed.Worker && s.Library == seed.Library && s.Stream == seed.Stream);
            Assert.Equal(original.Seed, seed.Seed);
            Assert.Equal(original.State, seed.State);
            Assert.Equal(original.FirstIssueTime, seed.FirstIssueTime);
        }
    }

    [Fact]
    public async Task ListIssuedSeeds_statuses()
    {
        await RpcAssert.FailsWith(StatusCode.NotFound, async () =>
            await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "audit/unknown" }));
        await RpcAssert.InvalidField("experiment_id", async () =>
            await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "" }));

        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "audit/statuses", Root = "1" });
        await RpcAssert.InvalidField("page_token", async () =>
            await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "audit/statuses", PageToken = "p1.bm90IGEgY3Vyc29y" }));
        await RpcAssert.InvalidField("page_size", async () =>
            await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "audit/statuses", PageSize = 5000 }));
    }

    [Fact]
    public async Task ListIssuedSeeds_filters_by_worker_library_and_stream_page_by_page_and_issues_nothing()
    {
        const string id = "audit/filtered";
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "5" });
        var batch = new BatchGetSeedsRequest();
        foreach (var worker in Enumerable.Range(0, 40))
        {
            batch.Requests.Add(new GetSeedRequest { ExperimentId = id, Worker = (uint)worker, Library = "torch" });
            batch.Requests.Add(new GetSeedRequest { ExperimentId = id, Worker = (uint)worker, Library = "numpy", Stream = "dataloader" });
        }

        await daemon.Seeds.BatchGetSeedsAsync(batch);
        var eventsBefore = (await daemon.Audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = id })).EventsChecked;

        // Workers 10 to 29, torch only, three at a time: 20 seeds in worker order over 7 pages.
        var seen = new List<IssuedSeed>();
        var token = "";
        var pages = 0;
        do
        {
            var page = await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = id, WorkerMin = 10, WorkerMax = 29, Library = "torch", PageSize = 3, PageToken = token });
            Assert.InRange(page.Seeds.Count, 0, 3);
            seen.AddRange(page.Seeds);
            token = page.NextPageToken;
            pages++;
        }
        while (token != "");

        Assert.Equal(Enumerable.Range(10, 20).Select(w => (uint)w), seen.Select(s => s.Worker));
        Assert.All(seen, s => Assert.Equal(("torch", ""), (s.Library, s.Stream)));
        Assert.InRange(pages, 7, 8);

        var one = await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = id, WorkerMin = 7, WorkerMax = 7, Stream = "dataloader" });
        var only = Assert.Single(one.Seeds);
        Assert.Equal((7u, "numpy", "dataloader", 1ul), (only.Worker, only.Library, only.Stream, only.IssueCount));
        Assert.Empty((await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = id, WorkerMin = 41 })).Seeds);

        await RpcAssert.InvalidField("worker_min", async () => await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = id, WorkerMin = 9, WorkerMax = 8 }));
        await RpcAssert.InvalidField("library", async () => await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = id, Library = "Not A Name" }));
        Assert.Equal(eventsBefore, (await daemon.Audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = id })).EventsChecked);
    }
}
