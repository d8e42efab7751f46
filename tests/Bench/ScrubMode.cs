using Grpc.Core;
using Grpc.Health.V1;
using SeedDaemon.V1;

namespace SeedDaemon.Bench;

/// <summary>
/// The store check's cost to requests: getseed_new (16 callers) with and without a store check
/// running (1%, the daemon's default share of 10%, 25% and flat out), alternating rounds on one daemon, each
/// against the health Check (echo) measured in the same round; and how fast a check reads.
/// </summary>
internal static class ScrubMode
{
    public static async Task RunAsync(string[] args)
    {
        var quick = args.Contains("--quick");
        var keys = quick ? 50_000 : 200_000;
        var duration = TimeSpan.FromSeconds(quick ? 2 : 3);
        await using var deployment = await Deployment.StartAsync(args);
        Console.WriteLine($"{deployment.Description}: {string.Join(", ", deployment.Replicas.Select(r => r.Address))}; {Environment.ProcessorCount} cores");
        using var channel = deployment.Channel();
        var seeds = new SeedService.SeedServiceClient(channel);
        var admin = new AdminService.AdminServiceClient(channel);
        var health = new Health.HealthClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "bench/scrubbed", Root = "3" });
        for (var first = 0; first < keys; first += 10_000)
        {
            var batch = new BatchGetSeedsRequest();
            batch.Requests.AddRange(Enumerable.Range(first, 10_000).Select(w => new GetSeedRequest { ExperimentId = "bench/scrubbed", Worker = (uint)w, Library = "torch" }));
            await seeds.BatchGetSeedsAsync(batch);
        }

        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "bench/new", Root = "1" });
        var next = 0;
        Func<Task> getseedNew = () => seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "bench/new", Worker = (uint)Interlocked.Increment(ref next), Library = "torch" }).ResponseAsync;
        Func<Task> echo = () => health.CheckAsync(new HealthCheckRequest()).ResponseAsync;

        var alone = await CheckAsync(admin, 100, CancellationToken.None);
        Console.WriteLine($"store check alone, flat out: {alone.Read.Seeds + alone.Read.Events + alone.Read.Documents:N0} records in {alone.Elapsed.ToTimeSpan().TotalSeconds:F2} s ({(alone.Read.Seeds + alone.Read.Events + alone.Read.Documents) / alone.Elapsed.ToTimeSpan().TotalSeconds:N0} records/s)");
        await Load.RunAsync(16, TimeSpan.FromSeconds(1), getseedNew);

        foreach (var duty in new[] { 1, 10, 25, 100 })
        {
            var ratios = new List<double>();
            for (var round = 0; round < 3; round++)
            {
                var baseline = await Load.RunAsync(16, duration, echo);
                var without = await Load.RunAsync(16, duration, getseedNew);
                using var stop = new CancellationTokenSource();
                var checking = Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        await CheckAsync(admin, duty, stop.Token);
                    }
                });
                var with = await Load.RunAsync(16, duration, getseedNew);
                await stop.CancelAsync();
                await checking.ContinueWith(_ => { }, TaskScheduler.Default);
                ratios.Add(with.PerSecond / without.PerSecond);
                Console.WriteLine($"duty {duty,3}%  getseed_new C=16 without a check {without.PerSecond,8:F0}/s, with {with.PerSecond,8:F0}/s (p99 {without.P99Ms:F1} -> {with.P99Ms:F1} ms); echo {baseline.PerSecond:F0}/s");
            }

            Console.WriteLine($"duty {duty,3}%  getseed_new with a store check running / without: {Load.Median(ratios):F2} (median of 3 rounds)");
        }
    }

    private static async Task<StoreCheckSummary> CheckAsync(AdminService.AdminServiceClient admin, int duty, CancellationToken cancellationToken)
    {
        try
        {
            using var call = admin.CheckStore(new CheckStoreRequest { DutyPercent = duty }, cancellationToken: cancellationToken);
            StoreCheckSummary? summary = null;
            await foreach (var update in call.ResponseStream.ReadAllAsync(cancellationToken))
            {
                summary = update.Summary ?? summary;
            }

            return summary ?? throw new InvalidOperationException("no summary");
        }
        catch (RpcException) when (cancellationToken.IsCancellationRequested)
        {
            return new StoreCheckSummary();
        }
    }
}
