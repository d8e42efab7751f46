extern alias daemon;

using daemon::SeedDaemon.Daemon.Recording;
using SeedDaemon.V1;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// A database written by seedd 1.0 (layout 2), built from this repository's history and run as a
/// real process, is migrated (through layout 3) to layout 4 when this seedd opens it: the same issued seeds with the
/// same first issue and counts, the same ledger with the same chain head, frozen experiments still
/// frozen, and new issues continuing the chain. The power may go off at any write of the migration:
/// the next open finishes it with nothing lost.
/// </summary>
public sealed class LayoutMigrationTests(LayoutMigrationTests.Seedd10Database legacy, ITestOutputHelper output) : IClassFixture<LayoutMigrationTests.Seedd10Database>
{
    /// <summary>The last commit of seedd 1.0, whose embedded store writes layout 2.</summary>
    private const string Seedd10 = "ac6e5424bcae6860bcdab98f69feef833d2d0fb9";

    private static readonly string[] Experiments = ["legacy/a", "legacy/b", "legacy/frozen"];

    [Fact]
    public async Task A_layout_2_database_from_seedd_1_0_is_migrated_at_open_with_every_record_and_hash()
    {
        using var folder = new TempFolder();
        var db = legacy.CopyTo(folder.Path);
        var before = legacy.Before;

        await using var migrated = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        output.WriteLine(migrated.Output);
        Assert.Contains("is in storage layout 2; migrating it to layout 6", migrated.Output, StringComparison.Ordinal);
        using var after = TestChannels.Create(migrated.Address);
        var now = await ReadAllAsync(after);
        foreach (var id in Experiments)
        {
            Assert.Equal(before[id].Seeds, now[id].Seeds);
            Assert.Equal(before[id].Events, now[id].Events);
            Assert.True(now[id].Ledger.Ok, now[id].Ledger.Reason);
            Assert.Equal(before[id].Ledger.ChainHead, now[id].Ledger.ChainHead);
            Assert.Equal(320, now[id].Seeds.Count);
        }

        var client = new SeedService.SeedServiceClient(after);
        Assert.True((await client.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "legacy/frozen" })).Frozen);
        await RpcAssert.FailsWith(Grpc.Core.StatusCode.FailedPrecondition, async () =>
            await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "legacy/frozen", Worker = 999, Library = "torch" }));
        var repeat = await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "legacy/a", Worker = 3, Library = "python" });
        Assert.Equal(3ul, repeat.IssueCount);
        await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "legacy/a", Worker = 5000, Library = "torch" });
        var ledger = await new AuditService.AuditServiceClient(after).VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "legacy/a" });
        Assert.True(ledger.Ok, ledger.Reason);
        Assert.Equal(before["legacy/a"].Ledger.EventsChecked + 2, ledger.EventsChecked);
    }

    [Fact]
    public async Task A_power_cut_at_any_write_of_the_migration_loses_nothing_and_the_next_open_finishes_it()
    {
        const string path = "/sim/legacy/seeds.db";
        var files = legacy.Files.ToDictionary(f => "/sim/legacy/" + f.Key, f => f.Value, StringComparer.Ordinal);

        // The migration run whole is the reference: the same chain heads as seedd 1.0 answered. Then
        // every write: the migration rewrites, drops the old collection, seals, sets the layout, and
        // copies LiteDB's log into the data file.
        var (writes, seed, failures) = await PowerCuts.AtEveryWriteOfOpenAsync(files, path, async store =>
        {
            foreach (var id in Experiments)
            {
                var head = await store.Reader.GetChainHeadAsync(id, default);
                Assert.Equal((legacy.Before[id].Ledger.ChainHead.Sequence, legacy.Before[id].Ledger.ChainHead.Hash), (head.Sequence, head.Hash));
                Assert.Equal(320, (await store.Reader.ListSeedsAsync(id, null, 1000, default)).Count);
            }
        });
        Assert.True(writes > 10, $"the migration wrote only {writes} times");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        output.WriteLine($"the migration writes {writes} times; cut at each, all three ways, each reopened whole (random seed {seed})");
    }

    private static async Task<Dictionary<string, Contents>> ReadAllAsync(Grpc.Net.Client.GrpcChannel channel)
    {
        var audit = new AuditService.AuditServiceClient(channel);
        var result = new Dictionary<string, Contents>(StringComparer.Ordinal);
        foreach (var id in Experiments)
        {
            result[id] = new Contents(await audit.IssuedSeedsAsync(id), await audit.EventsAsync(id), await audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = id }));
        }

        return result;
    }

    public sealed record Contents(List<IssuedSeed> Seeds, List<LedgerEvent> Events, VerifyLedgerResponse Ledger);

    /// <summary>
    /// A layout-2 database written once per test class by seedd 1.0 (built from history, run as a real
    /// process): experiments with batches, repeats and a frozen one; what it answered; its files.
    /// </summary>
    public sealed class Seedd10Database : EarlierReleaseDatabase
    {
        /// <summary>What seedd 1.0 answered for each experiment before it stopped.</summary>
        public Dictionary<string, Contents> Before { get; private set; } = [];

        public override async Task InitializeAsync()
        {
            var built = await SeeddFromHistory.BuildAsync(Seedd10, Folder.File("seedd-1.0"), "src/Daemon", "src/Derivation");
            var data = Directory.CreateDirectory(Folder.File("data")).FullName;
            await using (var old = await SeeddProcess.StartDllAsync(built, new Dictionary<string, string?>(), "--listen", "127.0.0.1:0", "--db", Path.Combine(data, "seeds.db")))
            {
                Assert.Contains("seedd 1.0", old.Output, StringComparison.Ordinal);
                using var channel = TestChannels.Create(old.Address);
                var seeds = new SeedService.SeedServiceClient(channel);
                for (var e = 0; e < Experiments.Length; e++)
                {
                    await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiments[e], Root = (1000 + e).ToString(System.Globalization.CultureInfo.InvariantCulture), Labels = { ["team"] = "legacy" } });
                    var batch = new BatchGetSeedsRequest();
                    batch.Requests.AddRange(Enumerable.Range(0, 300).Select(w => new GetSeedRequest { ExperimentId = Experiments[e], Worker = (uint)w, Library = w % 3 == 0 ? "numpy" : "torch", Stream = w % 5 == 0 ? "dataloader" : "" }));
                    await seeds.BatchGetSeedsAsync(batch);
                    for (uint worker = 0; worker < 20; worker++)
                    {
                        await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = Experiments[e], Worker = worker, Library = "python" });
                        await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = Experiments[e], Worker = worker, Library = "python" });
                    }
                }

                await seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = "legacy/frozen" });
                Before = await ReadAllAsync(channel);
                Assert.Equal(0, await old.StopAsync());
            }

            await KeepFilesAsync(data);
        }
    }
}
