using Grpc.Core;
using Npgsql;
using SeedDaemon.Derivation;
using SeedDaemon.V1;
using Ctl = SeedDaemon.Testing.Seedctl;

namespace SeedDaemon.Tests.Replicated;

/// <summary>
/// The Python client and seedctl given several replicas' addresses go on when one dies (the .NET
/// SDK's ride-through of a killed replica is ReplicaTests' load; here, of a hung one). Every call of the contract is idempotent, so an answer
/// from the surviving replica is the same seed.
/// </summary>
public sealed class ClientRideThroughTests
{
    [Fact]
    public async Task The_Python_client_goes_on_when_the_replica_it_talks_to_is_killed_and_it_was_the_sequencer()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync();
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 2);
        var (sequencer, _) = await Sequencer.HolderAsync(cluster, database, replicas);
        var survivor = replicas.Processes.Single(p => p != sequencer);
        using (var channel = TestChannels.Create(survivor.Address))
        {
            await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ride/python", Root = "31" });
        }

        var answers = await PythonClientPackage.ScenarioAsync("ride_through", string.Join(',', replicas.Addresses), "ride/python", sequencer.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var seeds = answers.EnumerateArray().ToList();
        Assert.Equal(40, seeds.Count);
        for (var worker = 0; worker < 40; worker++)
        {
            Assert.Equal(SeedSeqV1.Derive(31, (uint)worker, "torch", "").Seed64.ToString(System.Globalization.CultureInfo.InvariantCulture), seeds[worker].GetProperty("seed64").GetString());
        }

        // The survivor holds all of them, and took the sequencer's lease over: every issue is in the log.
        using var channelToSurvivor = TestChannels.Create(survivor.Address);
        var audit = new AuditService.AuditServiceClient(channelToSurvivor);
        var listed = await audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "ride/python", PageSize = 100 });
        Assert.Equal(40, listed.Seeds.Count);
        await ReplicatedLedger.WaitForLogAsync(audit, "ride/python", listed.Seeds.Aggregate(0ul, (sum, s) => sum + s.IssueCount));
        Assert.True((await audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "ride/python" })).Ok);
    }

    [Fact]
    public async Task The_NET_SDK_goes_on_when_a_replica_hangs_with_its_connections_open()
    {
        var cluster = await PostgresCluster.SharedAsync();
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(await cluster.CreateDatabaseAsync()), 2);
        var options = Client.SeedClientOptions.ForAddress(string.Join(',', replicas.Addresses));
        options.CallTimeout = TimeSpan.FromSeconds(1);
        options.RetryTimeout = TimeSpan.FromSeconds(30);
        using var client = new Client.SeedClient(options);
        await client.CreateExperimentAsync("ride/hang", "41");

        // Both replicas answered (the balancer holds a ready connection to each); then one stops
        // answering without closing them (SIGSTOP: a hung process, a frozen VM).
        for (uint worker = 0; worker < 10; worker++)
        {
            await client.GetSeedAsync("ride/hang", worker, "torch");
        }

        ProcessRunner.Signal(replicas.Processes[0].Pid, 19);
        try
        {
            for (uint worker = 10; worker < 20; worker++)
            {
                Assert.Equal(SeedSeqV1.Derive(41, worker, "torch", "").Seed, (await client.GetSeedAsync("ride/hang", worker, "torch")).Seed);
            }
        }
        finally
        {
            ProcessRunner.Signal(replicas.Processes[0].Pid, 18);
        }
    }

    [Fact]
    public async Task A_replica_that_stops_inside_a_commit_holds_its_experiment_for_at_most_the_idle_in_transaction_timeout()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("stopped");
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 2);
        using var stopped = TestChannels.Create(replicas.Processes[0].Address);
        using var other = TestChannels.Create(replicas.Processes[1].Address);
        await new SeedService.SeedServiceClient(other).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ride/stopped", Root = "43" });

        // The test's own transaction locks the experiment's row, so replica 0's commit waits inside
        // its transaction; replica 0 is stopped there; the test lets go, and replica 0's transaction
        // now holds the row and waits on a process that does not run.
        Task<IssuedSeed> inside;
        await using (var held = await HeldLock.TakeAsync(cluster, database, "SELECT 1 FROM seedd_experiments WHERE id = 'ride/stopped' FOR UPDATE"))
        {
            inside = new SeedService.SeedServiceClient(stopped).GetSeedAsync(new GetSeedRequest { ExperimentId = "ride/stopped", Worker = 1, Library = "torch" }).ResponseAsync;
            await Poll.ForAsync(async () => await cluster.SeeddWaitingOnLocksAsync(database) > 0, TimeSpan.FromSeconds(30), "replica 0's commit to wait on the lock");
            ProcessRunner.Signal(replicas.Processes[0].Pid, 19);
            await held.ReleaseAsync();
        }

        try
        {
            // Of this test's database only (other tests share the server); at least one, as replica 0 may also have been stopped inside a sequencer round.
            const string HeldByTheStoppedReplica = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'seedd' AND state = 'idle in transaction'";
            await Poll.ForAsync(async () => await cluster.ScalarAsync<long>(database, HeldByTheStoppedReplica) >= 1, TimeSpan.FromSeconds(10), "replica 0's transaction to hold the row");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var answer = await new SeedService.SeedServiceClient(other).GetSeedAsync(
                new GetSeedRequest { ExperimentId = "ride/stopped", Worker = 2, Library = "torch" }, deadline: DateTime.UtcNow.AddSeconds(60));
            Assert.Equal(SeedSeqV1.Derive(43, 2, "torch", "").Seed64, answer.Seed64);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"replica 1 answered after {clock.Elapsed.TotalSeconds:0.0} s");
        }
        finally
        {
            ProcessRunner.Signal(replicas.Processes[0].Pid, 18);
        }

        // Replica 0 lost its session with its unfinished commit, and serves on; its call answered if and only if it is recorded.
        await Poll.ForAsync(async () =>
        {
            try
            {
                await new SeedService.SeedServiceClient(stopped).GetSeedAsync(new GetSeedRequest { ExperimentId = "ride/stopped", Worker = 3, Library = "torch" });
                return true;
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.Unavailable)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "replica 0 to serve again");
        var answered = await inside.ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);
        if (!answered)
        {
            var refused = Assert.IsType<RpcException>(inside.Exception!.InnerException);
            Assert.True(refused.StatusCode == StatusCode.Unavailable, $"the call replica 0 was inside of answered {refused.StatusCode}: {refused.Status.Detail}");
        }

        var listed = await new AuditService.AuditServiceClient(other).ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "ride/stopped", PageSize = 100 });
        Assert.Equal(answered ? [1u, 2u, 3u] : [2u, 3u], listed.Seeds.Select(s => s.Worker).Order());
    }

    [Fact]
    public async Task Seedctl_with_several_addresses_answers_and_proves_while_the_sequencing_replica_is_dead()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync();
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 2);
        var both = string.Join(',', replicas.Addresses);
        await Ctl.Expect(0, both, "experiments", "create", "ride/ctl", "--root", "8");
        var (sequencer, _) = await Sequencer.HolderAsync(cluster, database, replicas);

        ProcessRunner.Signal(sequencer.Pid, 9);
        await Task.Delay(200);
        for (var i = 0; i < 3; i++)
        {
            var got = await Ctl.Expect(0, both, "seeds", "get", "--experiment", "ride/ctl", "--worker", "2", "--library", "numpy");
            Assert.Contains(SeedDaemon.Derivation.SeedSeqV1.Derive(8, 2, "numpy", "").Seed.ToString(System.Globalization.CultureInfo.InvariantCulture), got, StringComparison.Ordinal);
        }

        Assert.Contains("ride/ctl", await Ctl.Expect(0, both, "experiments", "list"), StringComparison.Ordinal);

        // The key's entry waits for the other replica to take the lease over; the proof waits with it.
        using var folder = new TempFolder();
        await File.WriteAllTextAsync(folder.File("seedd.vkey"), TestLedgerKey.VerifierKey + "\n");
        await Ctl.Expect(0, both, "seeds", "prove", "--experiment", "ride/ctl", "--worker", "2", "--library", "numpy", "-o", folder.File("proof.json"));
        await Ctl.Expect(0, both, "verify-proof", folder.File("proof.json"), "--key", folder.File("seedd.vkey"));
    }
}
