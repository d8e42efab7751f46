using SeedDaemon.V1;

namespace SeedDaemon.Client.Tests;

/// <summary>The SDK's channel (also seedctl's) under long runs of large answers.</summary>
public sealed class ChannelTests
{
    /// <summary>
    /// An auditor paging through a large experiment makes thousands of calls with ~300 KB answers.
    /// With HttpClient's default HTTP/2 receive window, a call stalled until its deadline although
    /// the daemon had finished it, once in every few thousand such calls against a daemon process
    /// (3,000 pages caught it in one run of four; this test makes 5,000). With the SDK's window none
    /// may stall.
    /// </summary>
    [Fact]
    public async Task Thousands_of_large_pages_in_a_row_never_stall()
    {
        const string id = "sdk/pages";
        using var folder = new TempFolder();

        // A daemon of its own process: within this one the stall did not show.
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        using var channel = Channels.Create(new SeedClientOptions { Address = new Uri(seedd.Address) });
        var seeds = new SeedService.SeedServiceClient(channel);
        var audit = new AuditService.AuditServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "3" });
        for (var first = 0; first < 10_000; first += 1000)
        {
            var batch = new BatchGetSeedsRequest();
            batch.Requests.AddRange(Enumerable.Range(first, 1000).Select(w => new GetSeedRequest { ExperimentId = id, Worker = (uint)w, Library = "torch" }));
            await seeds.BatchGetSeedsAsync(batch);
        }

        var pages = 0;
        while (pages < 5_000)
        {
            var token = "";
            do
            {
                var page = await audit.ListIssuedSeedsAsync(
                    new ListIssuedSeedsRequest { ExperimentId = id, PageSize = 1000, PageToken = token },
                    deadline: DateTime.UtcNow.AddSeconds(30));
                Assert.Equal(1000, page.Seeds.Count);
                token = page.NextPageToken;
                pages++;
            }
            while (token != "");
        }
    }
}
