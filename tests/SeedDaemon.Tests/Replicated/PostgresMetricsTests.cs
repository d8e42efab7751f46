using System.Globalization;
using System.Text.RegularExpressions;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Replicated;

/// <summary>/metrics of a replica: store latency (its writes' waits and PostgreSQL commits) and the connection pool's use.</summary>
public sealed partial class PostgresMetricsTests
{
    [Fact]
    public async Task A_replica_reports_store_latency_and_connection_pool_use()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var connection = cluster.ConnectionString(await cluster.CreateDatabaseAsync()) + ";Maximum Pool Size=7";
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--postgres", connection);
        var http = HttpListener().Match(seedd.Output).Groups[1].Value;
        using var channel = TestChannels.Create(seedd.Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "metrics/pg", Root = "3" });
        for (uint worker = 0; worker < 4; worker++)
        {
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "metrics/pg", Worker = worker, Library = "torch" });
        }

        using var client = new HttpClient();
        var text = await client.GetStringAsync(new Uri(new Uri(http), "/metrics"));
        double Sample(string name) => double.Parse(text.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1], CultureInfo.InvariantCulture);

        Assert.Equal(5, Sample("seedd_store_write_seconds_count"));
        Assert.True(Sample("seedd_group_commit_flush_seconds_sum") > 0);
        Assert.Equal(7, Sample("seedd_store_connections_max"));
        Assert.InRange(Sample("seedd_store_connections_in_use"), 0, 7);
        Assert.Equal(0, Sample("seedd_database_bytes"));
    }

    [GeneratedRegex(@"(http://[^ ]+) \(HTTP/1\.1")]
    private static partial Regex HttpListener();
}
