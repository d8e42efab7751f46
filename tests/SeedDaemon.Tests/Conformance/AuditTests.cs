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
}
