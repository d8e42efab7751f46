using Google.Protobuf;
using Grpc.Core;
using SeedDaemon.V1;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// A database written by seedd 1.2 (layout 3: no checksums; runs with fingerprints), built from this
/// repository's history and run as a real process, is migrated to layout 4 when this seedd opens it:
/// every document sealed with its checksum and every fingerprint linked to its process's step before
/// it, with the same seeds, ledger, chain heads, runs and fingerprints. The power may go off at any
/// write of the migration (all three ways), and a kill -9 may stop it anywhere: the next open finishes it
/// with nothing lost.
/// </summary>
public sealed class Layout3MigrationTests(Layout3MigrationTests.Seedd12Database legacy, ITestOutputHelper output) : IClassFixture<Layout3MigrationTests.Seedd12Database>
{
    /// <summary>The last commit of seedd 1.2, whose embedded store writes layout 3.</summary>
    private const string Seedd12 = "a76bbe828edfabd215e3a58f3f9d89bf56374799";

    private static readonly string[] Experiments = ["older/a", "older/frozen"];

    [Fact]
    public async Task A_layout_3_database_with_runs_from_seedd_1_2_is_migrated_at_open_with_every_record()
    {
        using var folder = new TempFolder();
        var db = legacy.CopyTo(folder.Path);
        await using var migrated = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        output.WriteLine(migrated.Output);
        Assert.Contains("is in storage layout 3; migrating it to layout 6", migrated.Output, StringComparison.Ordinal);
        using var channel = TestChannels.Create(migrated.Address);
        Assert.Equal(legacy.Before, await Seedd12Database.ReadAllAsync(channel));

        // Every document now checks itself, and the whole store checks clean.
        var check = await Seedctl.Expect(0, migrated.Address, "store", "check", "--duty", "100");
        Assert.Contains("OK: no findings", check, StringComparison.Ordinal);

        // New records continue the chain and the runs.
        await new SeedService.SeedServiceClient(channel).GetSeedAsync(new GetSeedRequest { ExperimentId = "older/a", Worker = 9000, Library = "torch" });
        var receipt = await new RunService.RunServiceClient(channel).ReportFingerprintsAsync(Seedd12Database.Report("older/a", "first", 1, 31));
        Assert.Equal(1, receipt.Recorded);
        Assert.Contains("OK: no findings", await Seedctl.Expect(0, migrated.Address, "store", "check", "--duty", "100"), StringComparison.Ordinal);
    }

    [Fact]
    public Task A_power_cut_at_any_write_of_the_migration_loses_nothing_and_the_next_open_finishes_it() =>
        legacy.PowerCutAtEveryWriteOfMigrationAsync("older", 5, output);

    /// <summary>
    /// kill -9 at random moments of a real migration (a real seedd process on a real file, killed
    /// 0 to 300 ms after it says it migrates): the next start migrates or finishes the migration and
    /// answers what seedd 1.2 answered.
    /// </summary>
    [Fact]
    public async Task A_kill_9_during_the_migration_loses_nothing_and_the_next_start_finishes_it()
    {
        using var folder = new TempFolder();
        var random = new Random(7);
        var migratedAgain = 0;
        for (var trial = 0; trial < 6; trial++)
        {
            var trialFolder = Directory.CreateDirectory(folder.File($"trial-{trial}")).FullName;
            var db = legacy.CopyTo(trialFolder);
            await SeeddProcess.KillAfterOutputAsync("migrating it to layout 6", TimeSpan.FromMilliseconds(random.Next(0, 300)), "--listen", "127.0.0.1:0", "--db", db);
            await using var restarted = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
            migratedAgain += restarted.Output.Contains("migrating it to layout 6", StringComparison.Ordinal) ? 1 : 0;
            using var channel = TestChannels.Create(restarted.Address);
            Assert.Equal(legacy.Before, await Seedd12Database.ReadAllAsync(channel));
        }

        output.WriteLine($"killed six migrations 0-300 ms in; {migratedAgain} of the restarts found the migration unfinished and finished it");
    }

    /// <summary>
    /// A layout-3 database written once per test class by seedd 1.2 (built from history, run as a real
    /// process): two experiments (one frozen) with batches and repeats, and a run of three processes
    /// that reported 30 steps each; what it answered; its files.
    /// </summary>
    public sealed class Seedd12Database : EarlierReleaseDatabase
    {
        /// <summary>What seedd 1.2 answered, as text: seeds, events, chain heads, runs and fingerprints.</summary>
        public string Before { get; private set; } = "";

        public static ReportFingerprintsRequest Report(string experiment, string run, uint worker, params int[] steps)
        {
            var report = new ReportFingerprintsRequest { ExperimentId = experiment, RunId = run, Worker = worker };
            report.Steps.AddRange(steps.Select(s => new StepFingerprint
            {
                Step = s,
                Digests =
                {
                    new V1.Digest { Name = "loss", Kind = DigestKind.Scalar, Value = ByteString.CopyFrom(BitConverter.GetBytes(1.0 / s)) },
                    new V1.Digest { Name = "rng.torch.cpu", Kind = DigestKind.Generator, Value = ByteString.CopyFrom([.. Enumerable.Range(0, 16).Select(i => (byte)(s + i + worker))]) },
                },
            }));
            return report;
        }

        /// <summary>Everything the daemon answers about the experiments, as text to compare.</summary>
        public static async Task<string> ReadAllAsync(Grpc.Net.Client.GrpcChannel channel)
        {
            var audit = new AuditService.AuditServiceClient(channel);
            var runs = new RunService.RunServiceClient(channel);
            var text = new System.Text.StringBuilder();
            foreach (var id in Experiments)
            {
                text.AppendJoin('\n', await audit.IssuedSeedsAsync(id)).AppendLine();
                text.AppendJoin('\n', await audit.EventsAsync(id)).AppendLine();
                text.AppendLine((await audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = id })).ToString());
                foreach (var run in (await runs.ListRunsAsync(new ListRunsRequest { ExperimentId = id })).Runs)
                {
                    text.AppendLine(run.ToString());
                    using var stream = runs.StreamFingerprints(new StreamFingerprintsRequest { ExperimentId = id, RunId = run.RunId });
                    await foreach (var chunk in stream.ResponseStream.ReadAllAsync())
                    {
                        text.AppendLine(chunk.ToString());
                    }
                }
            }

            return text.ToString();
        }

        public override async Task InitializeAsync()
        {
            var built = await SeeddFromHistory.BuildAsync(Seedd12, Folder.File("seedd-1.2"), "src/Daemon", "src/Derivation", "src/Manifest");
            var data = Directory.CreateDirectory(Folder.File("data")).FullName;
            await using (var old = await SeeddProcess.StartDllAsync(built, new Dictionary<string, string?>(), "--listen", "127.0.0.1:0", "--db", Path.Combine(data, "seeds.db")))
            {
                Assert.Contains("seedd 1.2", old.Output, StringComparison.Ordinal);
                using var channel = TestChannels.Create(old.Address);
                var seeds = new SeedService.SeedServiceClient(channel);
                var runs = new RunService.RunServiceClient(channel);
                for (var e = 0; e < Experiments.Length; e++)
                {
                    await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiments[e], Root = (2000 + e).ToString(System.Globalization.CultureInfo.InvariantCulture), Labels = { ["team"] = "older" } });
                    for (var first = 0; first < 3000; first += 1000)
                    {
                        var batch = new BatchGetSeedsRequest();
                        batch.Requests.AddRange(Enumerable.Range(first, 1000).Select(w => new GetSeedRequest { ExperimentId = Experiments[e], Worker = (uint)w, Library = w % 3 == 0 ? "numpy" : "torch", Stream = w % 5 == 0 ? "dataloader" : "" }));
                        await seeds.BatchGetSeedsAsync(batch);
                    }

                    for (uint worker = 0; worker < 10; worker++)
                    {
                        await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = Experiments[e], Worker = worker, Library = "python" });
                        await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = Experiments[e], Worker = worker, Library = "python" });
                    }

                    for (uint worker = 0; worker < 3; worker++)
                    {
                        await runs.RecordProcessAsync(new RecordProcessRequest { ExperimentId = Experiments[e], RunId = "first", Worker = worker, Environment = { ["host"] = "node-1" } });
                        await runs.ReportFingerprintsAsync(Report(Experiments[e], "first", worker, [.. Enumerable.Range(1, 30)]));
                    }
                }

                await seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = "older/frozen" });
                Before = await ReadAllAsync(channel);
                Assert.Equal(0, await old.StopAsync());
            }

            await KeepFilesAsync(data);
        }
    }
}
