using System.Diagnostics;
using Grpc.Net.Client;
using SeedDaemon.Client;
using SeedDaemon.Testing;
using SeedDaemon.V1;

namespace SeedDaemon.Bench;

/// <summary>A fleet starting at once: 4,096 workers each fetch a bundle of 5 libraries over many connections.</summary>
internal static class BurstMode
{
    private static readonly string[] Libraries = ["python", "numpy", "torch", "torch.cuda", "dotnet"];

    public static async Task RunAsync()
    {
        const int workers = 4096;
        using var folder = new TempFolder();
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        var channels = Enumerable.Range(0, 32).Select(_ => Channels.Create(new SeedClientOptions { Address = new Uri(seedd.Address) })).ToArray();
        var clients = channels.Select(c => new SeedService.SeedServiceClient(c)).ToArray();
        await clients[0].CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "bench/burst", Root = "7" });
        foreach (var client in clients)
        {
            await client.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "bench/burst" });
        }

        var latencies = new double[workers];
        var answers = new BatchGetSeedsResponse[workers];
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async w =>
        {
            var request = new BatchGetSeedsRequest();
            request.Requests.AddRange(Libraries.Select(l => new GetSeedRequest { ExperimentId = "bench/burst", Worker = (uint)w, Library = l }));
            var started = stopwatch.Elapsed;
            answers[w] = await clients[w % clients.Length].BatchGetSeedsAsync(request);
            latencies[w] = (stopwatch.Elapsed - started).TotalMilliseconds;
        }));
        var total = stopwatch.Elapsed;

        var distinct = Libraries.Select((library, i) => answers.Select(a => a.Seeds[i].Seed).Distinct().Count()).ToArray();
        Array.Sort(latencies);
        Console.WriteLine($"burst: {workers} workers x {Libraries.Length} libraries = {workers * Libraries.Length} seeds in {total.TotalSeconds:F2} s; p50 {latencies[workers / 2]:F0} ms, p99 {latencies[(int)(workers * 0.99)]:F0} ms");
        Console.WriteLine($"distinct seeds per column: {string.Join(", ", Libraries.Select((l, i) => $"{l} {distinct[i]}"))}");
        Console.WriteLine($"burst_all_served_s = {total.TotalSeconds:F2} (target < 2)");
        Console.WriteLine($"burst_p99_ms = {latencies[(int)(workers * 0.99)]:F0} (target < 200)");
        foreach (var channel in channels)
        {
            channel.Dispose();
        }
    }
}
