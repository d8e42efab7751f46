using System.Diagnostics;
using Google.Protobuf;
using SeedDaemon.Testing;
using SeedDaemon.Client;
using SeedDaemon.V1;

namespace SeedDaemon.Bench;

/// <summary>
/// runs [--quick] [--postgres]: what runs cost. 16,384 processes reporting the same step at once
/// (all recorded, errors counted); two runs of P processes x 1,000 steps x 6 digests written, the
/// bytes per digest on disk (LiteDB), and seedctl runs diff of the two (its time and peak memory,
/// against seedctl's own start-up measured in the same run as the baseline); the Python client's
/// cost per fingerprint and a 100M-parameter model's digest on the CPU.
/// </summary>
internal static class RunsMode
{
    public static async Task RunAsync(string[] args)
    {
        var quick = args.Contains("--quick");
        var processes = quick ? 100 : 1000;
        await using var deployment = await Deployment.StartAsync(args);
        using var channel = deployment.Channel();
        var seeds = new SeedService.SeedServiceClient(channel);
        var runs = new RunService.RunServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "bench/runs", Root = "5" });
        Console.WriteLine($"{deployment.Description}; {Environment.ProcessorCount} cores");

        // 16,384 processes, one report each of the same step, 256 in flight at a time: step 0 (a new
        // document each, in LiteDB), then step 1 (appended to the same block).
        var stopwatch = Stopwatch.StartNew();
        for (var step = 0; step < 2; step++)
        {
            stopwatch.Restart();
            var errors = 0;
            using (var gate = new SemaphoreSlim(256))
            {
                await Task.WhenAll(Enumerable.Range(0, 16_384).Select(async w =>
                {
                    await gate.WaitAsync();
                    try
                    {
                        var request = new ReportFingerprintsRequest { ExperimentId = "bench/runs", RunId = "fleet", Worker = (uint)w, Steps = { Step(step, 6) } };
                        await runs.ReportFingerprintsAsync(request);
                    }
                    catch (Grpc.Core.RpcException)
                    {
                        Interlocked.Increment(ref errors);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }

            var fleet = await runs.GetRunAsync(new GetRunRequest { ExperimentId = "bench/runs", RunId = "fleet" });
            Console.WriteLine($"16,384 processes reporting step {step}: {fleet.Summary.Fingerprints} recorded in all, {errors} errors, {stopwatch.Elapsed.TotalSeconds:F1} s");
        }

        var before = await DatabaseBytesAsync(deployment);
        foreach (var run in new[] { "a", "b" })
        {
            stopwatch.Restart();
            await Task.WhenAll(Enumerable.Range(0, 4).Select(async part =>
            {
                for (var w = part; w < processes; w += 4)
                {
                    var request = new ReportFingerprintsRequest { ExperimentId = "bench/runs", RunId = run, Worker = (uint)w };
                    for (var step = 0; step < 1000; step++)
                    {
                        // Run b differs from a at the last step of the last process only.
                        request.Steps.Add(Step(step, 6, run == "b" && w == processes - 1 && step == 999 ? 1 : 0));
                    }

                    await runs.ReportFingerprintsAsync(request);
                }
            }));
            Console.WriteLine($"run {run}: {processes} processes x 1,000 steps x 6 digests written in {stopwatch.Elapsed.TotalSeconds:F1} s ({processes * 6000 / stopwatch.Elapsed.TotalSeconds:F0} digests/s)");
        }

        var where = deployment.DatabaseFolder is null ? "table seedd_fingerprints, its indexes and TOAST" : "data file and log";
        Console.WriteLine($"on disk: {(double)(await DatabaseBytesAsync(deployment) - before) / (2.0 * processes * 6000):F1} bytes per digest (16-byte digests, names and ids included; {where})");

        stopwatch.Restart();
        var streamed = 0L;
        using (var call = runs.StreamFingerprints(new StreamFingerprintsRequest { ExperimentId = "bench/runs", RunId = "a" , Packed = true }))
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                streamed += PackedStep.Read(call.ResponseStream.Current).Count();
            }
        }

        Console.WriteLine($"StreamFingerprints of run a: {streamed} steps in {stopwatch.Elapsed.TotalSeconds:F1} s ({streamed / stopwatch.Elapsed.TotalSeconds:F0} steps/s)");
        var baseline = await TimedAsync("seedctl --version", "--version");
        var diff = await TimedAsync("runs diff", "runs", "diff", "bench/runs", "a", "b", "--output", "json", "--address", deployment.Replicas[0].Address);
        Console.WriteLine($"runs diff of two runs of {processes} x 1,000 steps: {diff.Seconds:F1} s, peak {diff.PeakMiB:F0} MiB (seedctl --version: {baseline.Seconds:F1} s, {baseline.PeakMiB:F0} MiB)");

        var python = await ProcessRunner.RunAsync(Python.Interpreter, [Path.Combine(AppContext.BaseDirectory, "Python", "bench_fingerprint.py"), deployment.Replicas[0].Address, quick ? "10000000" : "100000000"],
            environment: new Dictionary<string, string> { ["PYTHONPATH"] = Path.Combine(TestPaths.RepoRoot, "src", "Client", "python") }, timeout: TimeSpan.FromMinutes(10));
        Console.Write(python.Stdout);
        Console.Error.Write(python.Stderr);
    }

    /// <summary>A step of <paramref name="digests"/> 16-byte digests named like a real fingerprint's.</summary>
    public static StepFingerprint Step(long step, int digests, int salt = 0)
    {
        var fingerprint = new StepFingerprint { Step = step };
        var names = new[] { "rng.python", "rng.numpy", "rng.torch.cpu", "rng.stream.dataloader", "loss", "model" };
        for (var i = 0; i < digests; i++)
        {
            var value = new byte[i == 4 ? 8 : 16];
            BitConverter.TryWriteBytes(value, step * 31 + i + salt);
            fingerprint.Digests.Add(new Digest { Name = names[i % names.Length], Kind = i == 4 ? DigestKind.Scalar : i == 5 ? DigestKind.Tensor : DigestKind.Generator, Value = ByteString.CopyFrom(value) });
        }

        return fingerprint;
    }

    /// <summary>The embedded store's files, or PostgreSQL's fingerprint table with its indexes and TOAST.</summary>
    private static async Task<long> DatabaseBytesAsync(Deployment deployment)
    {
        if (deployment.DatabaseFolder is { } folder)
        {
            return Directory.GetFiles(folder).Sum(f => new FileInfo(f).Length);
        }

        await using var connection = new Npgsql.NpgsqlConnection(deployment.PostgresConnection);
        await connection.OpenAsync();
        await using var size = new Npgsql.NpgsqlCommand("SELECT pg_total_relation_size('seedd_fingerprints')", connection);
        return (long)(await size.ExecuteScalarAsync())!;
    }

    /// <summary>seedctl under /usr/bin/time: wall seconds and peak resident MiB.</summary>
    private static async Task<(double Seconds, double PeakMiB)> TimedAsync(string what, params string[] args)
    {
        var stopwatch = Stopwatch.StartNew();
        var result = await ProcessRunner.RunAsync("/usr/bin/time", ["-f", "peak %M KiB", "dotnet", TestPaths.SeedctlDll, .. args], timeout: TimeSpan.FromMinutes(10));
        var seconds = stopwatch.Elapsed.TotalSeconds;
        var peak = System.Text.RegularExpressions.Regex.Match(result.Stderr, @"peak (\d+) KiB");
        if (!peak.Success)
        {
            throw new InvalidOperationException($"{what}: {result.Stderr}");
        }

        return (seconds, double.Parse(peak.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) / 1024);
    }
}
