using System.Globalization;
using SeedDaemon.V1;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Replicated;

/// <summary>
/// A PostgreSQL primary with a synchronous standby: the primary is killed under load and the standby
/// promoted. seedd answered a seed only after the standby had its commit, and its multi-host
/// connection string (Target Session Attributes=primary) follows the promotion by itself. Just before
/// the crash the primary's WAL sender is paused: with commits that wait for the standby nothing is
/// answered meanwhile; with commits that do not (synchronous_commit=local or off), what is answered
/// then is lost with the primary, and the test fails (checked).
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_acknowledged_seed_is_on_the_promoted_standby_and_the_chain_verifies()
    {
        await using var primary = await PostgresCluster.StartAsync();
        var database = await primary.CreateDatabaseAsync();
        await using var standby = await primary.CreateStandbyAsync("seedd_standby");
        await primary.ExecuteAsync("postgres", "ALTER SYSTEM SET synchronous_standby_names = '*'");
        await primary.ExecuteAsync("postgres", "SELECT pg_reload_conf()");
        await Poll.ForAsync(async () => await primary.ScalarAsync<long>("postgres", "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == 1, TimeSpan.FromSeconds(60), "the standby to be synchronous");

        var connection = $"Host=127.0.0.1:{primary.Port.ToString(CultureInfo.InvariantCulture)},127.0.0.1:{standby.Port.ToString(CultureInfo.InvariantCulture)};Target Session Attributes=primary;" +
            $"Username=postgres;Password={PostgresCluster.Password};Database={database};Timeout=3";
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", connection);
        const string Experiment = "failover/sync";
        using (var channel = TestChannels.Create(seedd.Address))
        {
            await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "99" });
        }

        var load = new ReplicatedLoad(Experiment);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync([seedd.Address], 16, stop.Token);

        // Counted, not timed: the suite's other assemblies share the cores.
        await Poll.ForAsync(() => Task.FromResult(load.Count >= 200), TimeSpan.FromSeconds(60), "200 answers from the primary");
        using (primary.PauseWalSender())
        {
            await Task.Delay(300);
            primary.Kill();
        }

        var atKill = load.Count;
        await standby.PromoteAsync();
        await Poll.ForAsync(() => Task.FromResult(load.Count > atKill + 50), TimeSpan.FromSeconds(60), "answers from the promoted standby");
        await stop.CancelAsync();
        await running;
        output.WriteLine($"{atKill} answers before the primary died, {load.Count - atKill} after the promotion");

        await ReplicatedLedger.VerifyAsync(seedd.Address, Experiment, load);
        var onStandby = await standby.ScalarAsync<long>(database, $"SELECT count(DISTINCT worker) FROM seedd_issued_seeds WHERE experiment_id = '{Experiment}'");
        Assert.True(onStandby >= load.Acknowledged.Count, $"{load.Acknowledged.Count} keys acknowledged, {onStandby} on the promoted standby");
    }
}
