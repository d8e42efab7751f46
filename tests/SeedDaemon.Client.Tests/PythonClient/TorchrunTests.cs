using System.Globalization;
using System.Text.Json;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>
/// SeedClient.from_environment() under torchrun's environment contract. Debian's torch 1.13
/// torch.distributed.run crashes on Python 3.11 in its log-redirect code before starting any worker,
/// so the test starts the worker processes itself with the variables torchrun's elastic agent sets
/// (2 nodes x 2 processes), and the workers meet in a real gloo process group to compare seeds.
/// </summary>
public sealed class TorchrunTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    [Fact]
    public async Task Four_torchrun_workers_find_their_rank_and_get_distinct_verified_seeds()
    {
        const string Experiment = "python/torchrun";
        const int WorldSize = 4;
        const int PerNode = 2;
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "4096" });
        var port = Ports.Unused();

        var workers = Enumerable.Range(0, WorldSize).Select(rank => PythonClientPackage.RunAsync(
            [TestPaths.PythonScript("client_scenarios.py"), "torchrun_worker"],
            new Dictionary<string, string>
            {
                ["SEEDD_ADDRESS"] = daemon.Address,
                ["SEEDD_EXPERIMENT"] = Experiment,
                ["RANK"] = rank.ToString(CultureInfo.InvariantCulture),
                ["LOCAL_RANK"] = (rank % PerNode).ToString(CultureInfo.InvariantCulture),
                ["GROUP_RANK"] = (rank / PerNode).ToString(CultureInfo.InvariantCulture),
                ["ROLE_RANK"] = rank.ToString(CultureInfo.InvariantCulture),
                ["ROLE_NAME"] = "default",
                ["WORLD_SIZE"] = WorldSize.ToString(CultureInfo.InvariantCulture),
                ["ROLE_WORLD_SIZE"] = WorldSize.ToString(CultureInfo.InvariantCulture),
                ["LOCAL_WORLD_SIZE"] = PerNode.ToString(CultureInfo.InvariantCulture),
                ["GROUP_WORLD_SIZE"] = (WorldSize / PerNode).ToString(CultureInfo.InvariantCulture),
                ["MASTER_ADDR"] = "127.0.0.1",
                ["MASTER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
                ["TORCHELASTIC_RESTART_COUNT"] = "0",
                ["TORCHELASTIC_MAX_RESTARTS"] = "0",
                ["TORCHELASTIC_RUN_ID"] = "seedd-test",
                ["TORCHELASTIC_USE_AGENT_STORE"] = "False",
                ["OMP_NUM_THREADS"] = "1",
            })).ToArray();
        var results = await Task.WhenAll(workers);

        var reports = results.Select(r =>
        {
            Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
            return JsonDocument.Parse(r.Stdout).RootElement.Clone();
        }).ToList();
        var torchSeeds = new HashSet<string>();
        foreach (var report in reports)
        {
            var rank = report.GetProperty("rank").GetInt32();
            Assert.Equal(rank, report.GetProperty("worker").GetInt32());
            Assert.Equal("RANK", report.GetProperty("source").GetString());
            Assert.Equal(rank % PerNode, report.GetProperty("local_rank").GetInt32());
            Assert.Equal(WorldSize, report.GetProperty("world_size").GetInt32());
            Assert.Equal(PerNode, report.GetProperty("local_world_size").GetInt32());
            Assert.Equal(Experiment, report.GetProperty("experiment").GetString());
            var expected = SeedSeqV1.Derive(4096, (uint)rank, "torch", "").Seed;
            Assert.Equal(expected.ToString(CultureInfo.InvariantCulture), report.GetProperty("torch_seed").GetString());
            torchSeeds.Add(report.GetProperty("torch_seed").GetString()!);

            // Every rank saw every other rank's seed through the process group, and the seed it applied.
            var all = report.GetProperty("all").EnumerateArray().ToList();
            Assert.Equal(Enumerable.Range(0, WorldSize), all.Select(a => a.GetProperty("worker").GetInt32()));
            Assert.All(all, a => Assert.Equal(SeedSeqV1.Derive(4096, (uint)a.GetProperty("worker").GetInt32(), "torch", "").Seed.ToString(CultureInfo.InvariantCulture), a.GetProperty("torch_seed").GetString()));
            Assert.All(all, a => Assert.Equal((long)(ulong.Parse(a.GetProperty("torch_seed").GetString()!, CultureInfo.InvariantCulture) & 0xFFFFFFFF), a.GetProperty("initial_seed_low").GetInt64()));
        }

        Assert.Equal(WorldSize, torchSeeds.Count);
    }

    [Fact]
    public async Task WORLD_SIZE_without_RANK_is_an_error_not_worker_0()
    {
        var result = await PythonClientPackage.RunAsync(["-c", "from seedd_client import SeedClient; SeedClient.from_environment()"],
            new Dictionary<string, string> { ["WORLD_SIZE"] = "8", ["SEEDD_EXPERIMENT"] = "x/y" });
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("WORLD_SIZE is 8 but neither SEEDD_WORKER nor RANK is set", result.Stderr, StringComparison.Ordinal);
    }

}
