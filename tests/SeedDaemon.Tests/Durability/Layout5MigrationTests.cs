extern alias daemon;

using SeedDaemon.Client;
using SeedDaemon.Ledger;
using SeedDaemon.Tests.Conformance;
using SeedDaemon.V1;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// A database written by the last layout-5 seedd (a hash chain only), built from this repository's
/// history and run as a real process, grows its ledger trees when this seedd opens it (layout 6): the
/// same seeds, events, chain heads and runs; a tree whose root is the documented entries' root, whose
/// checkpoint and proofs verify, and which goes on growing. The power may go off at any write of the
/// migration (all three ways): the next open finishes it with nothing lost.
/// </summary>
public sealed class Layout5MigrationTests(Layout5MigrationTests.Layout5Database legacy, ITestOutputHelper output) : IClassFixture<Layout5MigrationTests.Layout5Database>
{
    /// <summary>The last commit whose embedded store writes layout 5.</summary>
    private const string Layout5 = "459ec53fd317f71162da9f3c8a66f929215c153e";

    [Fact]
    public async Task A_layout_5_database_grows_its_ledger_trees_at_open_and_its_old_chain_heads_stay()
    {
        using var folder = new TempFolder();
        var db = legacy.CopyTo(folder.Path);
        await using var migrated = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        output.WriteLine(migrated.Output);
        Assert.Contains("is in storage layout 5; migrating it to layout 6", migrated.Output, StringComparison.Ordinal);
        using var channel = TestChannels.Create(migrated.Address);
        Assert.Equal(legacy.Before, await Layout3MigrationTests.Seedd12Database.ReadAllAsync(channel));
        var audit = new AuditService.AuditServiceClient(channel);
        Assert.Equal(legacy.ChainHead, (await audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "older/a" })).ChainHead.Hash);

        var events = await audit.EventsAsync("older/a", pageSize: 1000);
        var checkpoint = await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = "older/a" });
        Assert.Equal(events.Count, checkpoint.TreeSize);
        Assert.Equal(MerkleTree.Root([.. events.Select(e => MerkleTree.LeafHash(TransparencyLogTests<EmbeddedDaemon>.DocumentedEntry("older/a", e)))]), checkpoint.RootHash.ToByteArray());

        var key = NoteSigner.Parse((await File.ReadAllTextAsync(folder.File("ledger.key"))).Trim()).VerifierKey;
        using var sdk = new SeedClient(channel, new SeedClientOptions { LedgerKey = key });
        Assert.Equal(3u, (await sdk.ProveSeedAsync("older/a", 3, "torch")).Event().Worker);
        await new SeedService.SeedServiceClient(channel).GetSeedAsync(new GetSeedRequest { ExperimentId = "older/a", Worker = 9999, Library = "torch" });
        var after = await sdk.GetCheckpointAsync("older/a");
        Assert.Equal(events.Count + 1, after.Size);
        Assert.True((await audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "older/a" })).Ok);
    }

    [Fact]
    public Task A_power_cut_at_any_write_of_the_migration_loses_nothing_and_the_next_open_finishes_it() =>
        legacy.PowerCutAtEveryWriteOfMigrationAsync("layout5", 1, output);

    /// <summary>A layout-5 database written once per test class by seedd at <see cref="Layout5"/>: 600 events over a stored-subtree boundary, a run.</summary>
    public sealed class Layout5Database : EarlierReleaseDatabase
    {
        public string Before { get; private set; } = "";

        public string ChainHead { get; private set; } = "";

        public override async Task InitializeAsync()
        {
            var built = await SeeddFromHistory.BuildAsync(Layout5, Folder.File("seedd-layout5"), "src/Daemon", "src/Derivation", "src/Manifest");
            var data = Directory.CreateDirectory(Folder.File("data")).FullName;
            await using (var old = await SeeddProcess.StartDllAsync(built, new Dictionary<string, string?>(), "--listen", "127.0.0.1:0", "--db", Path.Combine(data, "seeds.db")))
            {
                using var channel = TestChannels.Create(old.Address);
                var seeds = new SeedService.SeedServiceClient(channel);
                var runs = new RunService.RunServiceClient(channel);
                await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "older/a", Root = "5005" });
                await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "older/frozen", Root = "5006" });
                await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "older/a", Worker = 3, Library = "torch" });
                var batch = new BatchGetSeedsRequest();
                batch.Requests.AddRange(Enumerable.Range(0, 600).Select(w => new GetSeedRequest { ExperimentId = "older/a", Worker = (uint)w, Library = "numpy" }));
                await seeds.BatchGetSeedsAsync(batch);
                await runs.ReportFingerprintsAsync(Layout3MigrationTests.Seedd12Database.Report("older/a", "first", 0, 0, 1, 2));
                Before = await Layout3MigrationTests.Seedd12Database.ReadAllAsync(channel);
                ChainHead = (await new AuditService.AuditServiceClient(channel).VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "older/a" })).ChainHead.Hash;
                Assert.Equal(0, await old.StopAsync());
            }

            await KeepFilesAsync(data);
        }
    }
}
