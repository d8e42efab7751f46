extern alias daemon;

using daemon::SeedDaemon.Daemon.Recording;
using SeedDaemon.V1;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// A database written by a development build of seedd 1.3 (layout 4: one document per fingerprint),
/// built from this repository's history and run as a real process, is migrated to layout 5 when this
/// seedd opens it: every fingerprint moved into its block of 16 steps, with the same seeds, ledger,
/// runs, fingerprints and conflicts. The power may go off at any write of the migration (all three ways):
/// the next open finishes it with nothing lost.
/// </summary>
public sealed class Layout4MigrationTests(Layout4MigrationTests.Layout4Database legacy, ITestOutputHelper output) : IClassFixture<Layout4MigrationTests.Layout4Database>
{
    /// <summary>The last commit whose embedded store writes layout 4.</summary>
    private const string Layout4 = "eb93ccd209cba9e54403e5101d5488539c0af011";

    [Fact]
    public async Task A_layout_4_database_is_migrated_at_open_into_blocks_with_every_fingerprint()
    {
        using var folder = new TempFolder();
        var db = legacy.CopyTo(folder.Path);
        await using var migrated = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        output.WriteLine(migrated.Output);
        Assert.Contains("is in storage layout 4; migrating it to layout 6", migrated.Output, StringComparison.Ordinal);
        using var channel = TestChannels.Create(migrated.Address);
        Assert.Equal(legacy.Before, await Layout3MigrationTests.Seedd12Database.ReadAllAsync(channel));
        Assert.Contains("OK: no findings", await Seedctl.Expect(0, migrated.Address, "store", "check", "--duty", "100"), StringComparison.Ordinal);

        // A process goes on in the block its last step is in (step 37 is in the block of 32 to 47), then in new ones.
        var runs = new RunService.RunServiceClient(channel);
        Assert.Equal(2, (await runs.ReportFingerprintsAsync(Layout3MigrationTests.Seedd12Database.Report("older/a", "first", 1, 38, 50))).Recorded);
        Assert.Equal(1, (await runs.ReportFingerprintsAsync(Layout3MigrationTests.Seedd12Database.Report("older/a", "first", 1, 7))).Repeats);
        var kept = await runs.GetFingerprintAsync(new GetFingerprintRequest { ExperimentId = "older/a", RunId = "first", Worker = 1, Step = 38 });
        Assert.Equal(Layout3MigrationTests.Seedd12Database.Report("older/a", "first", 1, 38).Steps[0].Digests, kept.Digests);
        Assert.Contains("OK: no findings", await Seedctl.Expect(0, migrated.Address, "store", "check", "--duty", "100"), StringComparison.Ordinal);
    }

    /// <summary>A layout-4 fingerprint that the file lost (its document and index entry gone) is found by its step link: the migration is refused, naming it, and the file left as it was.</summary>
    [Fact]
    public void A_fingerprint_the_file_lost_refuses_the_migration_and_leaves_the_file_as_it_was()
    {
        using var folder = new TempFolder();
        var db = legacy.CopyTo(folder.Path);
        using (var file = new LiteDB.LiteDatabase(new LiteDB.Engine.LiteEngine(new LiteDB.Engine.EngineSettings { Filename = db, Collation = LiteDB.Collation.Binary })))
        {
            Assert.True(file.GetCollection("fingerprints").Delete($"older/a|first|{20:x16}|{1:x8}"));
        }

        var before = DirectorySnapshot.Take(folder.Path);
        var error = Assert.Throws<StoreOpenException>(() => EmbeddedStore.Open(db, maxBatch: 16));
        Assert.Contains($"older/a|first|{21:x16}|{1:x8}", error.Message, StringComparison.Ordinal);
        Assert.Contains("a fingerprint between them is missing", error.Message, StringComparison.Ordinal);
        before.AssertUnchanged(folder.Path, "a refused migration");
    }

    [Fact]
    public Task A_power_cut_at_any_write_of_the_migration_loses_nothing_and_the_next_open_finishes_it() =>
        legacy.PowerCutAtEveryWriteOfMigrationAsync("layout4", 3, output);

    /// <summary>
    /// A layout-4 database written once per test class by seedd at <see cref="Layout4"/> (built from
    /// history, run as a real process): one experiment, two runs; three processes reporting steps 0 to
    /// 37 in reports that end inside blocks, one of them every third step only, and a conflict.
    /// </summary>
    public sealed class Layout4Database : EarlierReleaseDatabase
    {
        /// <summary>What seedd answered before the migration, as text.</summary>
        public string Before { get; private set; } = "";

        public override async Task InitializeAsync()
        {
            var built = await SeeddFromHistory.BuildAsync(Layout4, Folder.File("seedd-layout4"), "src/Daemon", "src/Derivation", "src/Manifest");
            var data = Directory.CreateDirectory(Folder.File("data")).FullName;
            await using (var old = await SeeddProcess.StartDllAsync(built, new Dictionary<string, string?>(), "--listen", "127.0.0.1:0", "--db", Path.Combine(data, "seeds.db")))
            {
                using var channel = TestChannels.Create(old.Address);
                var seeds = new SeedService.SeedServiceClient(channel);
                var runs = new RunService.RunServiceClient(channel);
                await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "older/a", Root = "4004" });
                await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "older/frozen", Root = "4005" });
                await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "older/a", Worker = 3, Library = "torch" });
                foreach (var run in new[] { "first", "second" })
                {
                    for (uint worker = 0; worker < 3; worker++)
                    {
                        var steps = Enumerable.Range(0, 38).Where(s => worker != 2 || s % 3 == 0).ToArray();
                        foreach (var part in steps.Chunk(run == "first" ? 7 : 20))
                        {
                            await runs.ReportFingerprintsAsync(Layout3MigrationTests.Seedd12Database.Report("older/a", run, worker, part));
                        }
                    }
                }

                var conflict = Layout3MigrationTests.Seedd12Database.Report("older/a", "second", 0, 5);
                conflict.Steps[0].Digests[0].Value = Google.Protobuf.ByteString.CopyFrom(new byte[8]);
                Assert.Equal(1, (await runs.ReportFingerprintsAsync(conflict)).Conflicts);
                Before = await Layout3MigrationTests.Seedd12Database.ReadAllAsync(channel);
                Assert.Equal(0, await old.StopAsync());
            }

            await KeepFilesAsync(data);
        }
    }
}
