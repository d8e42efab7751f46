extern alias daemon;

using Grpc.Core;
using daemon::SeedDaemon.Daemon.Hosting;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Processes;

/// <summary>
/// The statuses the README promises for what a client cannot see coming: a commit that hangs (a
/// disk whose fsync does not return), a daemon that is stopping. Never UNKNOWN or INTERNAL, never
/// a seed without its record.
/// </summary>
public sealed class StatusTests
{
    [Fact]
    public async Task A_deadline_or_a_cancel_during_a_slow_commit_is_DEADLINE_EXCEEDED_or_CANCELLED_and_the_daemon_serves_on()
    {
        var disk = new SimulatedDisk();
        await using var seedd = await StartAsync(disk, "/sim/slow/seeds.db");
        using var channel = TestChannels.Create(seedd.Addresses[0]);
        var seeds = new SeedService.SeedServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "slow/exp", Root = "5" });

        disk.FlushGate.Reset();
        await RpcAssert.FailsWith(StatusCode.DeadlineExceeded, async () =>
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "slow/exp", Worker = 1, Library = "torch" }, deadline: DateTime.UtcNow.AddMilliseconds(500)));
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await RpcAssert.FailsWith(StatusCode.Cancelled, async () =>
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "slow/exp", Worker = 2, Library = "torch" }, cancellationToken: cancel.Token));
        disk.FlushGate.Set();

        // Served again; a refused answer may still have been recorded (a record without an answer is
        // allowed, an answer without a record never is), and each key is recorded at most once.
        var after = await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "slow/exp", Worker = 1, Library = "torch" });
        Assert.InRange(after.IssueCount, 1ul, 2ul);
        var ledger = await new AuditService.AuditServiceClient(channel).VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "slow/exp" });
        Assert.True(ledger.Ok, ledger.Reason);
    }

    [Fact]
    public async Task Requests_while_the_daemon_stops_are_UNAVAILABLE_and_an_answered_one_is_recorded()
    {
        var disk = new SimulatedDisk();
        var seedd = await StartAsync(disk, "/sim/stopping/seeds.db");
        using var channel = TestChannels.Create(seedd.Addresses[0]);
        var seeds = new SeedService.SeedServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "stopping/exp", Root = "6" });

        // One request waits on a hanging commit while the daemon is asked to stop.
        disk.FlushGate.Reset();
        var inFlight = seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "stopping/exp", Worker = 1, Library = "torch" }).ResponseAsync;
        await Task.Delay(300);
        var stopping = seedd.DisposeAsync().AsTask();
        await Task.Delay(300);

        var late = await Assert.ThrowsAsync<RpcException>(async () =>
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "stopping/exp", Worker = 2, Library = "torch" }, deadline: DateTime.UtcNow.AddSeconds(10)));
        Assert.Equal(StatusCode.Unavailable, late.StatusCode);

        disk.FlushGate.Set();
        await stopping.WaitAsync(TimeSpan.FromSeconds(30));
        IssuedSeed? answered = null;
        try
        {
            answered = await inFlight;
        }
        catch (RpcException error)
        {
            Assert.True(error.StatusCode is StatusCode.Unavailable or StatusCode.Cancelled, $"{error.StatusCode}: {error.Status.Detail}");
        }

        // Whatever was answered is in the database the next daemon opens.
        await using var next = await StartAsync(disk, "/sim/stopping/seeds.db");
        using var nextChannel = TestChannels.Create(next.Addresses[0]);
        var listed = await new AuditService.AuditServiceClient(nextChannel).ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "stopping/exp" });
        if (answered is not null)
        {
            Assert.Contains(listed.Seeds, s => s.Worker == 1 && s.Seed64 == answered.Seed64);
        }

        Assert.DoesNotContain(listed.Seeds, s => s.Worker == 2);
    }

    private static Task<RunningSeedd> StartAsync(SimulatedDisk disk, string database) => QuietSeedd.StartAsync(database, disk);
}
