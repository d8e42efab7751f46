using Grpc.Net.Client;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Processes;

/// <summary>Real seedd processes over one database file: what survives a stop, a restart and a kill -9.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task A_restarted_daemon_serves_the_same_roots_and_records()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");

        Experiment given, generated;
        List<IssuedSeed> before;
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var client = new SeedService.SeedServiceClient(channel);
            given = await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "restart/given", Root = "123456789012345678901234567890", Labels = { ["k"] = "v" } });
            generated = await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "restart/generated" });
            var batch = new BatchGetSeedsRequest();
            foreach (var id in new[] { given.ExperimentId, generated.ExperimentId })
            {
                for (uint worker = 0; worker < 50; worker++)
                {
                    batch.Requests.Add(new GetSeedRequest { ExperimentId = id, Worker = worker * 7919, Library = worker % 2 == 0 ? "torch" : "numpy", Stream = worker % 3 == 0 ? "dataloader" : "" });
                }
            }

            await client.BatchGetSeedsAsync(batch);
            await client.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = given.ExperimentId });
            given = await client.GetExperimentAsync(new GetExperimentRequest { ExperimentId = given.ExperimentId });
            before = await ListAll(channel, [given.ExperimentId, generated.ExperimentId]);

            var started = DateTime.UtcNow;
            Assert.Equal(0, await seedd.StopAsync());
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10), "seedd took more than 10 s to stop");
        }

        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var client = new SeedService.SeedServiceClient(channel);
            Assert.Equal(given, await client.GetExperimentAsync(new GetExperimentRequest { ExperimentId = given.ExperimentId }));
            Assert.Equal(generated, await client.GetExperimentAsync(new GetExperimentRequest { ExperimentId = generated.ExperimentId }));
            Assert.Equal(before, await ListAll(channel, [given.ExperimentId, generated.ExperimentId]));

            // A clean stop checkpointed the keys: the open read them and replayed no ledger event.
            Assert.Contains("2 experiments, 100 issued keys (0 ledger events replayed", seedd.Output, StringComparison.Ordinal);
            var again = await client.GetSeedAsync(new GetSeedRequest { ExperimentId = generated.ExperimentId, Worker = 0, Library = "torch", Stream = "dataloader" });
            var original = before.Single(s => s.ExperimentId == generated.ExperimentId && s.Worker == 0);
            Assert.Equal(original.Seed64, again.Seed64);
            Assert.Equal(original.IssueCount + 1, again.IssueCount);
        }
    }

    [Fact]
    public async Task Every_acknowledged_seed_survives_kill_9()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        IssuedSeed[] acknowledged;
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var client = new SeedService.SeedServiceClient(channel);
            await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "kill/one" });
            acknowledged = await Task.WhenAll(Enumerable.Range(0, 200).Select(async w =>
                await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "kill/one", Worker = (uint)w, Library = "torch" })));
            ProcessRunner.Signal(seedd.Pid, 9);
        }

        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            // The keys were never checkpointed: the open rebuilt them from the 200 ledger events, and
            // LiteDB replayed its log without a repair (it leaves no "-backup" file beside the database).
            Assert.Contains("1 experiments, 200 issued keys (200 ledger events replayed", seedd.Output, StringComparison.Ordinal);
            Assert.Equal(["ledger.key", "seeds-log.db", "seeds.db"], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            using var channel = TestChannels.Create(seedd.Address);
            var verified = await new AuditService.AuditServiceClient(channel).VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "kill/one" });
            Assert.True(verified.Ok, verified.Reason);
            Assert.Equal(200ul, verified.EventsChecked);
            var stored = await ListAll(channel, ["kill/one"]);
            Assert.Equal(
                acknowledged.Select(s => (s.Worker, s.Seed64, s.FirstIssueTime)).OrderBy(s => s.Worker),
                stored.Select(s => (s.Worker, s.Seed64, s.FirstIssueTime)).OrderBy(s => s.Worker));
            var experiment = await new SeedService.SeedServiceClient(channel).GetExperimentAsync(new GetExperimentRequest { ExperimentId = "kill/one" });
            Assert.Equal(acknowledged[0].Root, experiment.Root);

            // The tree came back whole: its signed checkpoint covers all 200 events and verifies with the
            // key the file holds, and a proof of a seed leads to it.
            var key = SeedDaemon.Ledger.NoteSigner.Parse((await File.ReadAllTextAsync(folder.File("ledger.key"))).Trim()).VerifierKey;
            using var sdk = new SeedDaemon.Client.SeedClient(channel, new SeedDaemon.Client.SeedClientOptions { LedgerKey = key });
            Assert.Equal(200, (await sdk.GetCheckpointAsync("kill/one")).Size);
            var proof = await sdk.ProveSeedAsync("kill/one", 123, "torch");
            Assert.Equal(200, proof.TreeSize);
        }
    }

    private static async Task<List<IssuedSeed>> ListAll(GrpcChannel channel, string[] experimentIds)
    {
        var audit = new AuditService.AuditServiceClient(channel);
        var all = new List<IssuedSeed>();
        foreach (var id in experimentIds)
        {
            all.AddRange(await audit.IssuedSeedsAsync(id, pageSize: 17));
        }

        return all;
    }
}
