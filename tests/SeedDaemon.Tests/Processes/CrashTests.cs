using System.Collections.Concurrent;
using System.Diagnostics;
using SeedDaemon.V1;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Processes;

/// <summary>Real seedd processes killed and stopped under 64-way load of new keys.</summary>
public sealed class CrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Twenty_kill_9s_under_load_lose_no_acknowledged_seed()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        var seed = TestRandom.Seed();
        output.WriteLine($"random seed {seed}");
        var random = new Random(seed);
        var acknowledged = new ConcurrentDictionary<uint, IssuedSeed>();
        const string experiment = "crash/kill-9";

        for (var kill = 0; kill <= 20; kill++)
        {
            await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
            if (kill == 0)
            {
                using var channel = TestChannels.Create(seedd.Address);
                await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = experiment, Root = "4242" });
            }

            await LoadGenerator.VerifyAsync(seedd.Address, experiment, acknowledged, $"after kill {kill}");
            if (kill == 20)
            {
                break;
            }

            // Killed under load at a random moment, once this round has been answered at least 15
            // times (counted, not slept for: the suite's other assemblies share the cores).
            using var stop = new CancellationTokenSource();
            var before = acknowledged.Count;
            var load = new LoadGenerator(experiment, acknowledged).RunAsync(seedd.Address, 64, stop.Token);
            await Poll.UntilAsync(() => acknowledged.Count >= before + 15, TimeSpan.FromSeconds(30));

            await Task.Delay(random.Next(0, 300));
            ProcessRunner.Signal(seedd.Pid, 9);
            await stop.CancelAsync();
            await load;
        }

        output.WriteLine($"{acknowledged.Count} acknowledged seeds survived 20 kill -9s");
        Assert.True(acknowledged.Count >= 300, $"only {acknowledged.Count} seeds were acknowledged under load");
    }

    /// <summary>Fingerprints are recorded under the seeds' contract: an acknowledged report survives kill -9.</summary>
    [Fact]
    public async Task Kill_9s_while_64_processes_report_fingerprints_lose_no_acknowledged_step()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        var acknowledged = new ConcurrentDictionary<uint, long>();
        const string experiment = "crash/fingerprints";
        for (var kill = 0; kill <= 5; kill++)
        {
            await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
            using var channel = TestChannels.Create(seedd.Address);
            var runs = new RunService.RunServiceClient(channel);
            if (kill == 0)
            {
                await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = experiment, Root = "8" });
            }

            var run = await runs.GetRunAsync(new GetRunRequest { ExperimentId = experiment, RunId = "r" }).ResponseAsync.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null);
            foreach (var (worker, step) in acknowledged)
            {
                var process = run?.Processes.SingleOrDefault(p => p.Worker == worker);
                Assert.True(process is not null && process.LastStep >= step, $"after kill {kill}: worker {worker} acknowledged step {step}, the store has {process?.LastStep}");
                Assert.Equal(process!.LastStep + 1, process.Steps);
                var recorded = await runs.GetFingerprintAsync(new GetFingerprintRequest { ExperimentId = experiment, RunId = "r", Worker = worker, Step = step });
                Assert.Equal(step, BitConverter.ToInt64(recorded.Digests[0].Value.Span));
            }

            if (kill == 5)
            {
                break;
            }

            using var stop = new CancellationTokenSource();
            var reporters = Enumerable.Range(0, 64).Select(w => Task.Run(async () =>
            {
                var worker = (uint)w;
                var next = run?.Processes.SingleOrDefault(p => p.Worker == worker)?.LastStep + 1 ?? 0;
                while (!stop.IsCancellationRequested)
                {
                    var request = new ReportFingerprintsRequest { ExperimentId = experiment, RunId = "r", Worker = worker };
                    request.Steps.Add(new StepFingerprint { Step = next, Digests = { new Digest { Name = "rng.torch.cpu", Kind = DigestKind.Generator, Value = Google.Protobuf.ByteString.CopyFrom(BitConverter.GetBytes(next)) } } });
                    try
                    {
                        await runs.ReportFingerprintsAsync(request, deadline: DateTime.UtcNow.AddSeconds(10));
                        acknowledged[worker] = next++;
                    }
                    catch (Grpc.Core.RpcException)
                    {
                        return;
                    }
                }
            })).ToList();
            var before = acknowledged.Values.Sum();
            await Poll.UntilAsync(() => acknowledged.Values.Sum() >= before + 200, TimeSpan.FromSeconds(30));
            ProcessRunner.Signal(seedd.Pid, 9);
            await stop.CancelAsync();
            await Task.WhenAll(reporters);
        }

        output.WriteLine($"{acknowledged.Values.Sum(s => s + 1)} acknowledged steps survived 5 kill -9s");
    }

    [Fact]
    public async Task SIGTERM_under_load_exits_within_10_s_and_loses_nothing_acknowledged()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        var acknowledged = new ConcurrentDictionary<uint, IssuedSeed>();
        const string experiment = "crash/sigterm";

        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            using (var channel = TestChannels.Create(seedd.Address))
            {
                await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = experiment, Root = "1" });
            }

            using var stop = new CancellationTokenSource();
            var load = new LoadGenerator(experiment, acknowledged).RunAsync(seedd.Address, 64, stop.Token);

            // Under load: answers counted, not a fixed delay (the suite's assemblies share the cores).
            await Poll.UntilAsync(() => acknowledged.Count >= 50, TimeSpan.FromSeconds(30));
            Assert.True(acknowledged.Count >= 50, $"only {acknowledged.Count} seeds were acknowledged before SIGTERM");
            var stopwatch = Stopwatch.StartNew();
            // A stop that hangs is what fails here: the bound leaves room for a disk the whole suite shares.
            var exitCode = await seedd.StopAsync(TimeSpan.FromSeconds(20));
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"seedd took {stopwatch.Elapsed} to stop");
            Assert.Equal(0, exitCode);
            Assert.Contains("Closed seed database", seedd.Output, StringComparison.Ordinal);
            output.WriteLine($"stopped in {stopwatch.ElapsedMilliseconds} ms with {acknowledged.Count} seeds acknowledged");
            await stop.CancelAsync();
            await load;
        }

        // Stopped cleanly: the keys were checkpointed and LiteDB's log folded into the data file.
        var log = folder.File("seeds-log.db");
        Assert.True(!File.Exists(log) || new FileInfo(log).Length == 0, $"the log holds {new FileInfo(log).Length} bytes after a clean stop");
        Assert.NotEmpty(acknowledged);

        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            Assert.Contains("(0 ledger events replayed after the last checkpoint)", seedd.Output, StringComparison.Ordinal);
            await LoadGenerator.VerifyAsync(seedd.Address, experiment, acknowledged, "after SIGTERM");
        }
    }

    [Fact]
    public async Task An_online_backup_is_consistent_and_opens_as_a_database()
    {
        using var folder = new TempFolder();
        var acknowledged = new ConcurrentDictionary<uint, IssuedSeed>();
        const string experiment = "crash/backup";
        var backupPath = folder.File("backup.db");

        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", folder.File("seeds.db")))
        {
            using var channel = TestChannels.Create(seedd.Address);
            await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = experiment, Root = "8" });
            using var stop = new CancellationTokenSource();
            var load = new LoadGenerator(experiment, acknowledged).RunAsync(seedd.Address, 16, stop.Token);
            await Poll.UntilAsync(() => acknowledged.Count >= 100, TimeSpan.FromSeconds(30));

            var before = new ConcurrentDictionary<uint, IssuedSeed>(acknowledged);
            Assert.True(before.Count >= 100, $"only {before.Count} seeds were acknowledged before the backup");
            var backup = await new AdminService.AdminServiceClient(channel).CreateBackupAsync(new CreateBackupRequest { Path = backupPath });
            await Task.Delay(200);
            await stop.CancelAsync();
            await load;

            Assert.Equal(backupPath, backup.Path);
            Assert.Equal(new FileInfo(backupPath).Length, backup.SizeBytes);
            Assert.InRange(backup.IssuedSeeds, before.Count, acknowledged.Count + 64);

            // While serving, the backup is a complete database of its own.
            await using var restored = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", backupPath);
            await LoadGenerator.VerifyAsync(restored.Address, experiment, before, "in the backup");

            await RpcAssert.FailsWith(Grpc.Core.StatusCode.AlreadyExists, async () =>
                await new AdminService.AdminServiceClient(channel).CreateBackupAsync(new CreateBackupRequest { Path = backupPath }));
            await RpcAssert.InvalidField("path", async () =>
                await new AdminService.AdminServiceClient(channel).CreateBackupAsync(new CreateBackupRequest { Path = "relative.db" }));
        }
    }
}
