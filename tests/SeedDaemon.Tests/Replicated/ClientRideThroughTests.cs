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
    public async Task The_Python_client_goes_on_when_the_replica_it_talks_to_is_killed()
    {
        var cluster = await PostgresCluster.SharedAsync();
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(await cluster.CreateDatabaseAsync()), 2);
        using (var channel = TestChannels.Create(replicas.Processes[1].Address))
        {
            await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ride/python", Root = "31" });
        }

        var answers = await PythonClientPackage.ScenarioAsync("ride_through", string.Join(',', replicas.Addresses), "ride/python", replicas.Processes[0].Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var seeds = answers.EnumerateArray().ToList();
        Assert.Equal(40, seeds.Count);
        for (var worker = 0; worker < 40; worker++)
        {
            Assert.Equal(SeedSeqV1.Derive(31, (uint)worker, "torch", "").Seed64.ToString(System.Globalization.CultureInfo.InvariantCulture), seeds[worker].GetProperty("seed64").GetString());
        }

        // The survivor holds all of them.
        using var survivor = TestChannels.Create(replicas.Processes[1].Address);
        var listed = await new AuditService.AuditServiceClient(survivor).ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "ride/python", PageSize = 100 });
        Assert.Equal(40, listed.Seeds.Count);
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
    public async Task Seedctl_with_several_addresses_answers_while_one_replica_is_dead()
    {
        var cluster = await PostgresCluster.SharedAsync();
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(await cluster.CreateDatabaseAsync()), 2);
        var both = string.Join(',', replicas.Addresses);
        await Ctl.Expect(0, both, "experiments", "create", "ride/ctl", "--root", "8");

        ProcessRunner.Signal(replicas.Processes[0].Pid, 9);
        await Task.Delay(200);
        for (var i = 0; i < 3; i++)
        {
            var got = await Ctl.Expect(0, both, "seeds", "get", "--experiment", "ride/ctl", "--worker", "2", "--library", "numpy");
            Assert.Contains(SeedSeqV1.Derive(8, 2, "numpy", "").Seed.ToString(System.Globalization.CultureInfo.InvariantCulture), got, StringComparison.Ordinal);
        }

        Assert.Contains("ride/ctl", await Ctl.Expect(0, both, "experiments", "list"), StringComparison.Ordinal);
    }

}
