using Grpc.Health.V1;
using SeedDaemon.Client;
using SeedDaemon.V1;

namespace SeedDaemon.Bench;

/// <summary>
/// A steady load against a daemon that is already running, for profiling it (dotnet-trace, perf):
/// load ADDRESS [getseed_new|getseed_repeat|batch_new|echo] [C] [SECONDS]. Prints the rate once a second.
/// </summary>
internal static class LoadMode
{
    public static async Task RunAsync(string[] args)
    {
        var address = args.ElementAtOrDefault(1) ?? SeedClientOptions.DefaultAddress;
        var subject = args.ElementAtOrDefault(2) ?? "getseed_new";
        var callers = int.Parse(args.ElementAtOrDefault(3) ?? "64", System.Globalization.CultureInfo.InvariantCulture);
        var seconds = int.Parse(args.ElementAtOrDefault(4) ?? "30", System.Globalization.CultureInfo.InvariantCulture);
        using var channel = Channels.Create(SeedClientOptions.ForAddress(address));
        var seeds = new SeedService.SeedServiceClient(channel);
        var health = new Health.HealthClient(channel);
        var experiment = $"bench/load-{Environment.ProcessId}";
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = experiment, Root = "1" });
        var next = 0;
        Func<Task> call = subject switch
        {
            "echo" => () => health.CheckAsync(new HealthCheckRequest()).ResponseAsync,
            "batch_new" => () =>
            {
                var request = new BatchGetSeedsRequest();
                var first = Interlocked.Add(ref next, 1000) - 1000;
                for (var i = 0; i < 1000; i++)
                {
                    request.Requests.Add(new GetSeedRequest { ExperimentId = experiment, Worker = (uint)(first + i), Library = "numpy" });
                }

                return seeds.BatchGetSeedsAsync(request).ResponseAsync;
            },
            "getseed_repeat" => () => seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = experiment, Worker = (uint)Random.Shared.Next(1000), Library = "torch" }).ResponseAsync,
            _ => () => seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = experiment, Worker = (uint)Interlocked.Increment(ref next), Library = "torch" }).ResponseAsync,
        };
        for (var second = 0; second < seconds; second++)
        {
            var result = await Load.RunAsync(callers, TimeSpan.FromSeconds(1), call);
            Console.WriteLine($"{subject} C={callers} {result}");
        }
    }
}
