extern alias daemon;

using Microsoft.Extensions.Logging.Abstractions;
using daemon::SeedDaemon.Daemon;
using daemon::SeedDaemon.Daemon.Recording;
using daemon::SeedDaemon.Daemon.Storage.LiteDb;
using Grpc.Core;
using SeedDaemon.Derivation;
using SeedDaemon.Testing;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Core;

/// <summary>
/// A new experiment's id has no empty, '.' or '..' path segment (REST could not name it); one made
/// before that rule is still created again with its root, as every worker's seed_everything(root=...) does.
/// </summary>
public sealed class LegacyExperimentIdTests
{
    [Fact]
    public async Task An_experiment_made_before_the_path_rule_is_created_again_and_a_new_one_like_it_is_refused()
    {
        using var folder = new TempFolder();
        var path = folder.File("seeds.db");
        using (var store = new SeedStore(LiteDbBackend.Open(path, NullLogger.Instance), maxBatch: 64, NullLogger.Instance))
        {
            await store.CreateExperimentAsync(new ExperimentRecord("legacy//run", 7, false, SeedSeqV1.Scheme, DateTime.UtcNow, false, new Dictionary<string, string>()), rootGiven: true, default);
        }

        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", path);
        using var channel = TestChannels.Create(seedd.Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        var again = await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "legacy//run", Root = "7" });
        Assert.Equal("7", again.Root);
        Assert.Equal(SeedSeqV1.Derive(7, 1, "torch", "").Seed64, (await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "legacy//run", Worker = 1, Library = "torch" })).Seed64);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "new//run", Root = "7" }));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("path segment", refused.Status.Detail, StringComparison.Ordinal);
    }
}
