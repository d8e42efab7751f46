using Grpc.Health.V1;
using Grpc.Net.Client;
using SeedDaemon.Client;
using SeedDaemon.Testing;
using SeedDaemon.V1;

namespace SeedDaemon.Bench;

/// <summary>
/// A real seedd (its own process, its own temporary database, durable group commit) under load
/// from this process over HTTP/2. The baseline is the standard health Check on the same daemon;
/// baseline and subject runs alternate so drift hits both, and each ratio is the median.
/// </summary>
internal static class DaemonMode
{
    public static async Task RunAsync(string[] args)
    {
        var quick = args.Contains("--quick");
        int[] callerCounts = quick ? [64] : [1, 16, 64, 256];
        var rounds = 3;
        var duration = TimeSpan.FromSeconds(quick ? 2 : 3);
        await using var deployment = await Deployment.StartAsync(args, "--http-listen", "127.0.0.1:0");
        var pids = deployment.Pids;
        Console.WriteLine($"{deployment.Description}: {string.Join(", ", deployment.Replicas.Select(r => r.Address))}; {Environment.ProcessorCount} cores");
        using var channel = deployment.Channel();
        var health = new Health.HealthClient(channel);
        var seeds = new SeedService.SeedServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "bench/new", Root = "1" });
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "bench/repeat", Root = "2" });
        for (uint w = 0; w < 1000; w++)
        {
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "bench/repeat", Worker = w, Library = "torch" });
        }

        var next = 0;
        var subjects = new (string Name, Func<Task> Call)[]
        {
            ("getseed_new", () => seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "bench/new", Worker = (uint)Interlocked.Increment(ref next), Library = "torch" }).ResponseAsync),
            ("getseed_repeat", () => seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "bench/repeat", Worker = (uint)Random.Shared.Next(1000), Library = "torch" }).ResponseAsync),
        };
        Func<Task> echo = () => health.CheckAsync(new HealthCheckRequest()).ResponseAsync;
        await Load.RunAsync(16, TimeSpan.FromSeconds(1), echo);

        var headline = new List<string>();
        foreach (var callers in callerCounts)
        {
            foreach (var (name, call) in subjects)
            {
                var ratios = new List<double>();
                for (var round = 0; round < rounds; round++)
                {
                    var baseline = await Load.RunAsync(callers, duration, echo, pids);
                    var subject = await Load.RunAsync(callers, duration, call, pids);
                    ratios.Add(subject.PerSecond / baseline.PerSecond);
                    Console.WriteLine($"C={callers,-3} echo           {baseline}");
                    Console.WriteLine($"C={callers,-3} {name,-14} {subject}");
                }

                var line = $"{name}/echo = {Load.Median(ratios):F2}  (C={callers}, median of {rounds})";
                Console.WriteLine(line);
                headline.Add(line);
            }
        }

        var batchRatios = new List<double>();
        var batchNext = 10_000_000;
        for (var round = 0; round < rounds; round++)
        {
            var baseline = await Load.RunAsync(16, duration, echo, pids);
            var batch = await Load.RunAsync(4, duration, () =>
            {
                var request = new BatchGetSeedsRequest();
                var first = Interlocked.Add(ref batchNext, 1000) - 1000;
                for (var i = 0; i < 1000; i++)
                {
                    request.Requests.Add(new GetSeedRequest { ExperimentId = "bench/new", Worker = (uint)(first + i), Library = "numpy" });
                }

                return seeds.BatchGetSeedsAsync(request).ResponseAsync;
            }, pids);
            batchRatios.Add(batch.PerSecond * 1000);
            Console.WriteLine($"batch_new (1000 keys, 4 callers) {batch.PerSecond * 1000,10:F0} seeds/s  p50 {batch.P50Ms:F1} ms  p99 {batch.P99Ms:F1} ms  seedd CPU {batch.ServerCpuMicroseconds / 1000:F1} us/seed;  echo {baseline.PerSecond:F0}/s");
        }

        headline.Add($"batch_new = {Load.Median(batchRatios):F0} seeds/s  (BatchGetSeeds of 1,000 new keys, median of {rounds})");

        // Fingerprints beside batch_new: 4 callers, each one process's report of 166 steps x 6 digests (996 digests a call).
        var runs = new RunService.RunServiceClient(channel);
        var fingerprintRates = new List<double>();
        var steps = new long[4];
        var reporting = Enumerable.Range(0, 4).Select(_ => new SemaphoreSlim(1)).ToArray();
        var callerIndex = 0;
        for (var round = 0; round < rounds; round++)
        {
            var baseline = await Load.RunAsync(16, duration, echo, pids);
            var report = await Load.RunAsync(4, duration, async () =>
            {
                // One report of a process at a time: with several replicas, two at once could land out of step order.
                var worker = (uint)(Interlocked.Increment(ref callerIndex) % 4);
                await reporting[worker].WaitAsync();
                try
                {
                    var request = new ReportFingerprintsRequest { ExperimentId = "bench/new", RunId = "bench", Worker = worker };
                    var first = steps[worker];
                    steps[worker] += 166;
                    for (var i = 0; i < 166; i++)
                    {
                        request.Steps.Add(RunsMode.Step(first + i, 6));
                    }

                    await runs.ReportFingerprintsAsync(request);
                }
                finally
                {
                    reporting[worker].Release();
                }
            }, pids);
            fingerprintRates.Add(report.PerSecond * 996);
            Console.WriteLine($"fingerprints (166 steps x 6 digests, 4 callers) {report.PerSecond * 996,10:F0} digests/s  p50 {report.P50Ms:F1} ms  p99 {report.P99Ms:F1} ms  seedd CPU {report.ServerCpuMicroseconds / 996:F1} us/digest;  echo {baseline.PerSecond:F0}/s");
        }

        headline.Add($"fingerprints = {Load.Median(fingerprintRates):F0} digests/s  (ReportFingerprints of 166 steps x 6 digests, median of {rounds}; beside batch_new)");
        Console.WriteLine();
        headline.ForEach(Console.WriteLine);
        foreach (var replica in deployment.Replicas)
        {
            await WriterProfile(replica.Output);
        }

        if (deployment.DatabaseFolder is { } folder)
        {
            Console.WriteLine(DiskProbe.Fsync(folder));
        }
    }

    /// <summary>Where the time goes: the group-commit writer's time per operation, from the daemon's own metrics.</summary>
    private static async Task WriterProfile(string daemonOutput)
    {
        var metricsAddress = System.Text.RegularExpressions.Regex.Match(daemonOutput, @"listening on http://[^,]+, (http://[^ ;]+)").Groups[1].Value;
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(new Uri(metricsAddress), "/metrics"));
        double Sample(string name) => double.Parse(text.Split('\n').First(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var batches = Sample("seedd_group_commit_batch_size_count");
        var operations = Sample("seedd_group_commit_batch_size_sum");
        var seconds = Sample("seedd_group_commit_flush_seconds_sum");
        Console.WriteLine($"writer profile: {batches:F0} group commits, {operations / batches:F1} operations each on average, {seconds / batches * 1000:F2} ms each (transaction + commit + fsync), {seconds / operations * 1e6:F1} us of writer time per operation");
    }
}
