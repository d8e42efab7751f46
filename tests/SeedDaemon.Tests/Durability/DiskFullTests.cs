using Grpc.Core;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// The daemon over a disk that runs out of space: requests fail with RESOURCE_EXHAUSTED (or
/// UNAVAILABLE), no seed comes back without its record, and once space is back it serves again
/// without a restart.
/// </summary>
public sealed class DiskFullTests
{
    [Fact]
    public async Task A_full_disk_refuses_new_seeds_and_recovers_when_space_is_back()
    {
        var disk = new SimulatedDisk();
        await using var seedd = await QuietSeedd.StartAsync("/sim/full/seeds.db", disk);
        using var channel = TestChannels.Create(seedd.Addresses[0]);
        var client = new SeedService.SeedServiceClient(channel);
        var audit = new AuditService.AuditServiceClient(channel);
        await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "full/exp", Root = "3" });
        var early = await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "full/exp", Worker = 0, Library = "torch" });

        disk.Capacity = disk.UsedBytes;
        var codes = new List<StatusCode>();
        for (uint worker = 1; worker <= 40; worker++)
        {
            try
            {
                var seed = await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "full/exp", Worker = worker, Library = "torch" });
                Assert.Fail($"worker {worker} got seed {seed.Seed} although the disk is full");
            }
            catch (RpcException error)
            {
                Assert.True(error.StatusCode is StatusCode.ResourceExhausted or StatusCode.Unavailable, $"worker {worker}: {error.StatusCode} {error.Status.Detail}");
                codes.Add(error.StatusCode);
            }
        }

        Assert.Contains(StatusCode.ResourceExhausted, codes);
        var health = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        Assert.Equal(Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.NotServing, health.Status);

        disk.Capacity = null;
        var served = await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "full/exp", Worker = 1, Library = "torch" });
        Assert.Equal(1ul, served.IssueCount);
        var listed = await audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "full/exp", PageSize = 100 });
        Assert.Equal([0u, 1u], listed.Seeds.Select(s => s.Worker));
        Assert.Equal(early.Seed64, listed.Seeds[0].Seed64);
    }
}
