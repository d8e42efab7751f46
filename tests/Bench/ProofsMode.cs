using System.Diagnostics;
using Grpc.Health.V1;
using SeedDaemon.Client.Proofs;
using SeedDaemon.V1;

namespace SeedDaemon.Bench;

/// <summary>
/// The transparency log's proofs in a large experiment (1,000,000 events; --quick: 100,000): the
/// inclusion proof of one entry (by leaf index, and of a key, which finds the key's first event),
/// the signed checkpoint and a consistency proof, one call at a time, each against the health
/// Check measured in the same run; then the offline verification of a bundle.
/// </summary>
internal static class ProofsMode
{
    public static async Task RunAsync(string[] args)
    {
        var events = args.Contains("--quick") ? 100_000 : 1_000_000;
        await using var deployment = await Deployment.StartAsync(args);
        Console.WriteLine($"{deployment.Description}; {Environment.ProcessorCount} cores");
        using var channel = deployment.Channel();
        var seeds = new SeedService.SeedServiceClient(channel);
        var audit = new AuditService.AuditServiceClient(channel);
        var health = new Health.HealthClient(channel);
        const string id = "bench/proofs";
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "7" });
        var filling = Stopwatch.StartNew();
        for (var first = 0; first < events; first += 10_000)
        {
            var batch = new BatchGetSeedsRequest();
            batch.Requests.AddRange(Enumerable.Range(first, 10_000).Select(w => new GetSeedRequest { ExperimentId = id, Worker = (uint)w, Library = "torch" }));
            await seeds.BatchGetSeedsAsync(batch);
        }

        Console.WriteLine($"{events:N0} events written in {filling.Elapsed.TotalSeconds:F1} s");
        var random = new Random(17);
        var key = (await audit.GetLedgerKeyAsync(new GetLedgerKeyRequest())).VerifierKey;
        await Measure("health Check (baseline)", () => health.CheckAsync(new HealthCheckRequest()).ResponseAsync);
        await Measure("GetCheckpoint", () => audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = id }).ResponseAsync);
        var hashes = new List<int>();
        InclusionProof? last = null;
        await Measure("ProveInclusion by leaf index", async () =>
        {
            last = await audit.ProveInclusionAsync(new ProveInclusionRequest { ExperimentId = id, LeafIndex = random.NextInt64(events) });
            hashes.Add(last.AuditPath.Count);
        });
        Console.WriteLine($"  audit path: {hashes.Min()} to {hashes.Max()} hashes, plus the checkpoint ({last!.Checkpoint.Length} bytes)");
        await Measure("ProveInclusion of a key (first event)", () => audit.ProveInclusionAsync(new ProveInclusionRequest { ExperimentId = id, Key = new ProofKey { Worker = (uint)random.Next(events), Library = "torch" } }).ResponseAsync);
        await Measure("ProveConsistency", () => audit.ProveConsistencyAsync(new ProveConsistencyRequest { ExperimentId = id, OldSize = 1 + random.NextInt64(events - 1) }).ResponseAsync);

        var bundle = ProofBundle.FromProto(last);
        var times = new List<double>();
        for (var i = 0; i < 1000; i++)
        {
            var started = Stopwatch.GetTimestamp();
            bundle.Verify(key);
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        times.Sort();
        Console.WriteLine($"offline verification of a bundle (ProofBundle.Verify, 1,000 times): p50 {times[500]:F3} ms, p99 {times[990]:F3} ms");
    }

    private static async Task Measure(string what, Func<Task> call)
    {
        for (var i = 0; i < 20; i++)
        {
            await call();
        }

        var times = new List<double>();
        for (var i = 0; i < 300; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call();
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        times.Sort();
        Console.WriteLine($"{what,-42} p50 {times[150],6:F2} ms  p99 {times[297],6:F2} ms  (one call at a time, 300 calls)");
    }
}
