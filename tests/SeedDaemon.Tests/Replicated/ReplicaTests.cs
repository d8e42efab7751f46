using Grpc.Core;
using SeedDaemon.V1;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Replicated;

/// <summary>Three seedd replicas over one PostgreSQL database: one chain per experiment, each key's first issue decided once, whatever happens to a replica.</summary>
public sealed class ReplicaTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Three_replicas_under_load_one_killed_lose_nothing_and_keep_one_gap_free_chain()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync();
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 3);
        const string Experiment = "replicas/load";
        using var first = TestChannels.Create(replicas.Processes[0].Address);
        await new SeedService.SeedServiceClient(first).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "777" });
        await Replicas.WarmUpAsync(replicas, "replicas/warm-up");

        var load = new ReplicatedLoad(Experiment);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(replicas.Addresses, 48, stop.Token);

        // Counted answers, not fixed sleeps: the suite's other assemblies share the machine's cores.
        var beforeKill = await load.WaitForAsync(200, TimeSpan.FromSeconds(30));

        // One that does not hold the sequencer's lease (SequencerTests kills that one).
        var (sequencer, _) = await Sequencer.HolderAsync(cluster, database, replicas);
        var killed = replicas.Processes.First(p => p != sequencer);
        ProcessRunner.Signal(killed.Pid, 9);
        var total = await load.WaitForAsync(beforeKill + 200, TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await running;
        var afterKill = total - beforeKill;
        output.WriteLine($"{beforeKill} answers before the kill, {afterKill} after, {load.Failures} calls failed or were cut short");
        Assert.True(beforeKill >= 200, $"only {beforeKill} answers in 30 s before the kill");
        Assert.True(afterKill >= 200, $"only {afterKill} answers in 30 s after a replica died: the SDK did not go on with the others");

        try
        {
            await ReplicatedLedger.VerifyAsync(sequencer.Address, Experiment, load);
        }
        catch (TimeoutException waited)
        {
            // What the sequencer was doing: who holds the lease, what still waits.
            var state = await cluster.ScalarAsync<string>(database,
                "SELECT holder || ' epoch ' || epoch || ' expires ' || (expires_at - now()) || '; pending ' || (SELECT count(*) FROM seedd_pending_entries) FROM seedd_sequencer");
            throw new TimeoutException($"{waited.Message}; lease {state}; killed pid {killed.Pid}, output of the others: {string.Join("\n---\n", replicas.Processes.Where(p => p != killed).Select(p => p.Output))}");
        }
    }

    [Fact]
    public async Task Concurrent_creates_without_a_root_on_three_replicas_agree_on_one_root()
    {
        var cluster = await PostgresCluster.SharedAsync();
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(await cluster.CreateDatabaseAsync()), 3);
        var channels = replicas.Addresses.Select(a => TestChannels.Create(a)).ToList();
        try
        {
            for (var round = 0; round < 5; round++)
            {
                var id = $"replicas/race-{round}";
                var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
                    new SeedService.SeedServiceClient(channels[i % 3]).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id }).ResponseAsync));
                Assert.Single(answers.Select(a => a.Root).Distinct());
                Assert.All(answers, a => Assert.True(a.RootGenerated));
                foreach (var channel in channels)
                {
                    Assert.Equal(answers[0], await new SeedService.SeedServiceClient(channel).GetExperimentAsync(new GetExperimentRequest { ExperimentId = id }));
                }
            }
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Freezing_on_one_replica_takes_effect_on_every_replica_at_once()
    {
        var cluster = await PostgresCluster.SharedAsync();
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(await cluster.CreateDatabaseAsync()), 3);
        var clients = replicas.Addresses.Select(a => new SeedService.SeedServiceClient(TestChannels.Create(a))).ToList();
        await clients[0].CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "replicas/freeze", Root = "5" });
        var issued = await clients[1].GetSeedAsync(new GetSeedRequest { ExperimentId = "replicas/freeze", Worker = 1, Library = "torch" });

        await clients[0].FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = "replicas/freeze" });

        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, async () =>
            await clients[1].GetSeedAsync(new GetSeedRequest { ExperimentId = "replicas/freeze", Worker = 2, Library = "torch" }));
        var again = await clients[2].GetSeedAsync(new GetSeedRequest { ExperimentId = "replicas/freeze", Worker = 1, Library = "torch" });
        Assert.Equal(issued.Seed64, again.Seed64);
        Assert.Equal(2ul, again.IssueCount);
        Assert.True((await clients[2].GetExperimentAsync(new GetExperimentRequest { ExperimentId = "replicas/freeze" })).Frozen);
    }

    [Fact]
    public async Task An_issue_that_comes_while_a_freeze_waits_waits_behind_it_and_finds_the_experiment_frozen()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("freezeq");
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 3);
        const string Experiment = "replicas/freeze-queue";
        var clients = replicas.Addresses.Select(a => TestChannels.Create(a)).ToList();
        try
        {
            var seeds = clients.Select(c => new SeedService.SeedServiceClient(c)).ToList();
            await seeds[0].CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "47" });

            // Replica 1's transaction is held open inside the experiment (its report waits on the test's lock of
            // the fingerprints table); replica 0's freeze waits for it; then replica 2 is asked for a new key.
            Task<IssuedSeed> late;
            Task<Experiment> freeze;
            Task<ReportFingerprintsResponse> report;
            await using (var hold = await HeldLock.TakeAsync(cluster, database, "LOCK TABLE seedd_fingerprints IN SHARE MODE"))
            {
                var request = new ReportFingerprintsRequest { ExperimentId = Experiment, RunId = "r", Worker = 1 };
                request.Steps.Add(new StepFingerprint { Step = 0, Digests = { new Digest { Name = "rng.torch.cpu", Kind = DigestKind.Generator, Value = Google.Protobuf.ByteString.CopyFrom(1, 2) } } });
                report = new RunService.RunServiceClient(clients[1]).ReportFingerprintsAsync(request, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync;
                await Poll.ForAsync(async () => await cluster.SeeddWaitingOnLocksAsync(database) == 1, TimeSpan.FromSeconds(30), "the report to wait on the test's lock");
                freeze = seeds[0].FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = Experiment }, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync;
                await Poll.ForAsync(async () => await cluster.SeeddWaitingOnLocksAsync(database) == 2, TimeSpan.FromSeconds(30), "the freeze to wait for the report");
                late = seeds[2].GetSeedAsync(new GetSeedRequest { ExperimentId = Experiment, Worker = 5, Library = "torch" }, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync;

                // It queues behind the freeze instead of passing it.
                await Poll.ForAsync(async () => late.IsCompleted || await cluster.SeeddWaitingOnLocksAsync(database) == 3, TimeSpan.FromSeconds(30), "the late issue to wait or to be answered");
                Assert.False(late.IsCompleted, "an issue that came while a freeze waited passed it: a stream of such issues could keep the freeze waiting");
                await hold.ReleaseAsync();
            }

            Assert.Equal(1, (await report).Recorded);
            await freeze;
            var refused = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, async () => await late);
            Assert.Contains("frozen", refused.Status.Detail, StringComparison.Ordinal);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_freeze_under_issues_from_every_replica_waits_only_for_those_already_in_flight()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("freeze");
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 3);
        const string Experiment = "replicas/freeze-under-load";
        using var channel = TestChannels.Create(replicas.Processes[0].Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "43" });
        await Replicas.WarmUpAsync(replicas, "replicas/freeze-warm-up");

        // Every replica issues into the experiment all the time: some transaction holds its row whenever the freeze looks.
        var load = new ReplicatedLoad(Experiment);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(replicas.Addresses, 48, stop.Token);
        await load.WaitForAsync(300, TimeSpan.FromSeconds(30));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = Experiment }, deadline: DateTime.UtcNow.AddSeconds(60));
        var froze = clock.Elapsed;
        var answeredBefore = load.Count;
        await Task.Delay(500);
        await stop.CancelAsync();
        await running;
        output.WriteLine($"the freeze took {froze.TotalMilliseconds:0} ms under {answeredBefore} answers from 3 replicas");
        // A starved freeze waits as long as the load runs (its 60 s deadline); 15 s leaves room for a loaded machine's commits.
        Assert.True(froze < TimeSpan.FromSeconds(15), $"the freeze waited {froze.TotalSeconds:0.0} s for a stream of issues that never pauses");

        // Frozen everywhere: new keys are refused from then on, and nothing was issued into it after the freeze.
        foreach (var address in replicas.Addresses)
        {
            using var other = TestChannels.Create(address);
            await RpcAssert.FailsWith(StatusCode.FailedPrecondition, async () =>
                await new SeedService.SeedServiceClient(other).GetSeedAsync(new GetSeedRequest { ExperimentId = Experiment, Worker = 9_999_999, Library = "torch" }));
        }

        await ReplicatedLedger.VerifyAsync(replicas.Processes[0].Address, Experiment, load);
    }
}
