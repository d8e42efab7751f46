using SeedDaemon.Client;

namespace SeedDaemon.Client.Tests;

/// <summary>A daemon restarted while a worker asks: the client retries and gets the same seeds.</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task A_worker_rides_through_a_daemon_restart()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        var listen = $"127.0.0.1:{Ports.UnusedOutsideTheEphemeralRange()}";
        var log = new RecordingLogger();
        var columns = ColumnKey.Default;

        SeedBundle before;
        var first = await SeeddProcess.StartAsync("--listen", listen, "--db", db);
        using var client = new SeedClient(new SeedClientOptions
        {
            Address = new Uri(first.Address),
            RetryTimeout = TimeSpan.FromSeconds(60),
            CallTimeout = TimeSpan.FromSeconds(5),
            Logger = log,
        });
        await client.CreateExperimentAsync("sdk/restart");
        before = await client.GetBundleAsync("sdk/restart", 5, columns);
        Assert.Equal(0, await first.StopAsync());
        await first.DisposeAsync();

        // The worker asks while no daemon runs; once the client says it is retrying (not a fixed
        // sleep, which a loaded machine can outrun), the daemon comes back.
        var during = client.GetBundleAsync("sdk/restart", 5, columns);
        await log.WaitForAsync("is not answering").WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(during.IsCompleted, "the call should still be retrying while the daemon is down");
        await using var second = await SeeddProcess.StartAsync("--listen", listen, "--db", db);
        var after = await during.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(before.Root, after.Root);
        foreach (var (column, seed) in before.Seeds)
        {
            Assert.Equal(seed.Seed64, after.Seeds[column].Seed64);
            Assert.Equal(seed.IssueCount + 1, after.Seeds[column].IssueCount);
        }
    }
}
