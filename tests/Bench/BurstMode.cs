using System.Diagnostics;
using SeedDaemon.Client;
using SeedDaemon.Testing;
using SeedDaemon.V1;

namespace SeedDaemon.Bench;

/// <summary>
/// A fleet starting at once: 4,096 workers each fetch a bundle of 5 libraries over many
/// connections. Twice on the same daemon: first right after it started (cold: its code is not
/// compiled yet), then a second fleet on a new experiment (a daemon that has been running). Beside
/// each, a baseline fleet of as many workers that only call the health Check once over the same
/// connections; the ratio of the two is printed. (<c>fleet</c> is the same with a channel of its
/// own per process, as workers on many machines have.)
/// </summary>
internal static class BurstMode
{
    private const int Workers = 4096;
    private static readonly string[] Libraries = ["python", "numpy", "torch", "torch.cuda", "dotnet"];

    public static async Task RunAsync(string[] args)
    {
        await using var deployment = await Deployment.StartAsync(args);
        Console.WriteLine($"{deployment.Description}; {Environment.ProcessorCount} cores");
        var channels = Enumerable.Range(0, 32).Select(_ => deployment.Channel()).ToArray();
        var clients = channels.Select(c => new SeedService.SeedServiceClient(c)).ToArray();
        try
        {
            var healths = channels.Select(c => new Grpc.Health.V1.Health.HealthClient(c)).ToArray();
            var cold = await FleetAsync(clients, "bench/burst-cold", deployment.Pids);
            var coldHealth = await HealthFleetAsync(healths);
            var warmHealth = await HealthFleetAsync(healths);
            var warm = await FleetAsync(clients, "bench/burst-warm", deployment.Pids);
            Console.WriteLine($"burst_all_served_s = {cold.Seconds:F2} cold, {warm.Seconds:F2} warm (target < 2)");
            Console.WriteLine($"health fleet beside it: {coldHealth:F2} s, {warmHealth:F2} s; burst/health = {cold.Seconds / coldHealth:F2} cold, {warm.Seconds / warmHealth:F2} warm (goal <= 1.25)");
            Console.WriteLine($"burst_p99_ms = {cold.P99Ms:F0} cold, {warm.P99Ms:F0} warm (target < 200)");
        }
        finally
        {
            foreach (var channel in channels)
            {
                channel.Dispose();
            }
        }
    }

    private sealed record Fleet(double Seconds, double P99Ms);

    /// <summary>As many workers as a fleet, each calling the health Check once: seconds until all answered.</summary>
    private static async Task<double> HealthFleetAsync(Grpc.Health.V1.Health.HealthClient[] clients)
    {
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w =>
            clients[w % clients.Length].CheckAsync(new Grpc.Health.V1.HealthCheckRequest(), deadline: DateTime.UtcNow.AddMinutes(1)).ResponseAsync));
        return stopwatch.Elapsed.TotalSeconds;
    }

    private static async Task<Fleet> FleetAsync(SeedService.SeedServiceClient[] clients, string experiment, int[] seeddPids)
    {
        await clients[0].CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = experiment, Root = "7" });
        foreach (var client in clients)
        {
            // Every connection is open before the clock starts.
            await client.GetExperimentAsync(new GetExperimentRequest { ExperimentId = experiment });
        }

        var latencies = new double[Workers];
        var answers = new BatchGetSeedsResponse[Workers];
        var cpu = Load.Cpu(seeddPids);
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(async w =>
        {
            var request = new BatchGetSeedsRequest();
            request.Requests.AddRange(Libraries.Select(l => new GetSeedRequest { ExperimentId = experiment, Worker = (uint)w, Library = l }));
            var started = stopwatch.Elapsed;
            answers[w] = await clients[w % clients.Length].BatchGetSeedsAsync(request, deadline: DateTime.UtcNow.AddMinutes(1));
            latencies[w] = (stopwatch.Elapsed - started).TotalMilliseconds;
        }));
        var total = stopwatch.Elapsed;
        var seeddCpu = Load.Cpu(seeddPids) - cpu;

        var distinct = Libraries.Select((library, i) => answers.Select(a => a.Seeds[i].Seed).Distinct().Count()).ToArray();
        Array.Sort(latencies);
        var p99 = latencies[(int)(Workers * 0.99)];
        Console.WriteLine($"{experiment}: {Workers} workers x {Libraries.Length} libraries = {Workers * Libraries.Length} seeds in {total.TotalSeconds:F2} s; p50 {latencies[Workers / 2]:F0} ms, p99 {p99:F0} ms; seedd CPU {seeddCpu.TotalSeconds:F2} s ({seeddCpu.TotalMicroseconds / Workers:F0} us a bundle)");
        Console.WriteLine($"  distinct seeds per column: {string.Join(", ", Libraries.Select((l, i) => $"{l} {distinct[i]}"))}");
        return new Fleet(total.TotalSeconds, p99);
    }
}
