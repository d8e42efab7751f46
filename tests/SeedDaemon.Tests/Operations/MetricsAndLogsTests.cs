extern alias daemon;

using System.Globalization;
using System.Text.Json;
using daemon::SeedDaemon.Daemon.Hosting;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Operations;

/// <summary>Prometheus metrics on the HTTP/1.1 listener, and JSON logs.</summary>
public sealed class MetricsAndLogsTests
{
    [Fact]
    public async Task Metrics_are_scraped_and_parsed()
    {
        using var folder = new TempFolder();
        await using var seedd = await SeeddApp.StartAsync(new Dictionary<string, string?>
        {
            ["Seedd:Listen"] = "127.0.0.1:0",
            ["Seedd:HttpListen"] = "127.0.0.1:0",
            ["Seedd:Database"] = folder.File("seeds.db"),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        Assert.Equal(2, seedd.Addresses.Count);
        using var channel = TestChannels.Create(seedd.Addresses[0]);
        var client = new SeedService.SeedServiceClient(channel);
        await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "metrics/exp", Root = "1" });
        for (uint worker = 0; worker < 5; worker++)
        {
            await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "metrics/exp", Worker = worker, Library = "torch" });
        }

        await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "metrics/exp", Worker = 1, Library = "numpy", Stream = "dataloader" });

        // Libraries of their own count under one label: a client cannot grow the label set.
        await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "metrics/exp", Worker = 1, Library = "augment-a" });
        await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "metrics/exp", Worker = 1, Library = "augment-b" });
        await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () => await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "metrics/none", Worker = 1, Library = "torch" }));

        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(new Uri(seedd.Addresses[1]), "/metrics"));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var samples = Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(5, samples["seedd_seeds_issued_total{library=\"torch\"}"]);
        Assert.Equal(1, samples["seedd_seeds_issued_total{library=\"numpy\"}"]);
        Assert.Equal(2, samples["seedd_seeds_issued_total{library=\"custom\"}"]);
        Assert.DoesNotContain(samples.Keys, k => k.Contains("augment", StringComparison.Ordinal));
        Assert.Equal(8, samples["seedd_requests_total{method=\"/seeddaemon.v1.SeedService/GetSeed\",status=\"OK\"}"]);
        Assert.Equal(1, samples["seedd_requests_total{method=\"/seeddaemon.v1.SeedService/GetSeed\",status=\"NotFound\"}"]);
        Assert.True(samples["seedd_group_commit_batch_size_count"] >= 9);
        Assert.Equal(samples["seedd_group_commit_batch_size_count"], samples["seedd_group_commit_batch_size_bucket{le=\"+Inf\"}"]);
        Assert.True(samples["seedd_group_commit_flush_seconds_sum"] > 0);
        Assert.Equal(9, samples["seedd_store_write_seconds_count"]);
        Assert.True(samples["seedd_store_write_seconds_sum"] >= samples["seedd_group_commit_flush_seconds_sum"] * 0.5);
        Assert.True(samples["seedd_database_bytes"] >= 8192);
        Assert.Equal(1, samples["seedd_experiments"]);
        Assert.Equal(0, samples["seedd_commits_awaiting_fsync"]);
    }

    [Fact]
    public async Task Logs_are_JSON_when_asked()
    {
        using var folder = new TempFolder();
        var environment = new Dictionary<string, string?> { ["Seedd__LogFormat"] = "json" };
        await using var seedd = await SeeddProcess.StartAsync(environment, "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        var line = seedd.Output.Split('\n').First(l => l.Contains("listening on", StringComparison.Ordinal));
        using var entry = JsonDocument.Parse(line);
        Assert.Equal(1, entry.RootElement.GetProperty("EventId").GetInt32());
        Assert.Equal("Information", entry.RootElement.GetProperty("LogLevel").GetString());
        Assert.Equal(folder.File("seeds.db"), entry.RootElement.GetProperty("State").GetProperty("Store").GetString());
    }

    /// <summary>Prometheus text format: "name{labels} value" lines, comments skipped.</summary>
    private static Dictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return samples;
    }
}
