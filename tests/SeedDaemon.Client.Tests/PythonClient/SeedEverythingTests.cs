using System.Globalization;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>
/// seedd_client.seed_everything(): one call takes the identity from the environment, fetches and
/// verifies the worker's bundle, applies it, and returns the report; offline only when asked.
/// Each run is a fresh Python process with the environment torchrun would give rank 3 of 4.
/// </summary>
public sealed class SeedEverythingTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>, IAsyncLifetime
{
    private const string Experiment = "python/everything";

    public async Task InitializeAsync() =>
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "2718" });

    public Task DisposeAsync() => Task.CompletedTask;

    private Dictionary<string, string> Rank3(string experiment = Experiment) => new()
    {
        ["SEEDD_ADDRESS"] = daemon.Address,
        ["SEEDD_EXPERIMENT"] = experiment,
        ["RANK"] = "3",
        ["WORLD_SIZE"] = "4",
    };

    [Fact]
    public async Task One_call_seeds_every_library_with_the_workers_recorded_seeds()
    {
        var result = await ScenarioAsync(Rank3(), "deterministic");
        Assert.Equal(3, result.GetProperty("worker").GetInt32());

        // What the daemon recorded for worker 3, read back over gRPC, is what torch, random and NumPy got.
        var events = await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = Experiment });
        Assert.All(events.Events, e => Assert.Equal(3u, e.Worker));
        var torch = events.Events.Single(e => e.Library == "torch");
        Assert.Equal(torch.Seed64.ToString(CultureInfo.InvariantCulture), result.GetProperty("torch_initial_seed").GetString());
        Assert.Equal(SeedSeqV1.Derive(2718, 3, "torch", "").Seed64, torch.Seed64);
        Assert.True(result.GetProperty("random_matches").GetBoolean());
        Assert.True(result.GetProperty("numpy_matches").GetBoolean());
        Assert.Equal(SeedSeqV1.Derive(2718, 3, "python.hash", "").Seed.ToString(CultureInfo.InvariantCulture), result.GetProperty("pythonhashseed").GetString());
        Assert.True(result.GetProperty("deterministic_algorithms").GetBoolean());
        Assert.Equal(Experiment, result.GetProperty("params").GetProperty("seedd.experiment").GetString());
    }

    [Fact]
    public async Task With_a_root_the_experiment_is_created_first()
    {
        var result = await ScenarioAsync(Rank3("python/everything-created"), "plain", "", "99");
        var experiment = await daemon.Seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "python/everything-created" });
        Assert.Equal("99", experiment.Root);
        Assert.Equal(SeedSeqV1.Derive(99, 3, "torch", "").Seed.ToString(CultureInfo.InvariantCulture), result.GetProperty("seeds").GetProperty("torch").GetString());
    }

    [Fact]
    public async Task Offline_derives_the_same_seeds_says_nothing_was_recorded_and_records_nothing()
    {
        var environment = Rank3("python/everything-offline");
        environment["SEEDD_ADDRESS"] = "http://127.0.0.1:9";
        var run = await PythonClientPackage.RunAsync([TestPaths.PythonScript("client_scenarios.py"), "seed_everything", "offline", "", "2718"], environment);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("offline", line, StringComparison.Ordinal);
        Assert.Contains("nothing was recorded in seedd", line, StringComparison.Ordinal);

        using var document = System.Text.Json.JsonDocument.Parse(run.Stdout);
        var seeds = document.RootElement.GetProperty("seeds");
        foreach (var library in new[] { "python", "numpy", "torch", "torch.cuda" })
        {
            Assert.Equal(SeedSeqV1.Derive(2718, 3, library, "").Seed.ToString(CultureInfo.InvariantCulture), seeds.GetProperty(library).GetString());
        }

        await RpcAssert.FailsWith(Grpc.Core.StatusCode.NotFound, async () => await daemon.Seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "python/everything-offline" }));
    }

    [Fact]
    public async Task An_explicit_worker_wins_over_the_environment_and_settles_WORLD_SIZE_without_RANK()
    {
        var environment = Rank3("python/everything-worker");
        environment.Remove("RANK");
        var result = await ScenarioAsync(environment, "worker2", "", "2718");
        Assert.Equal(2, result.GetProperty("worker").GetInt32());
        Assert.Equal(SeedSeqV1.Derive(2718, 2, "torch", "").Seed.ToString(CultureInfo.InvariantCulture), result.GetProperty("seeds").GetProperty("torch").GetString());
    }

    [Fact]
    public async Task Without_an_experiment_it_says_how_to_name_one()
    {
        var environment = Rank3();
        environment.Remove("SEEDD_EXPERIMENT");
        var result = await ScenarioAsync(environment, "missing_experiment");
        Assert.Contains("set SEEDD_EXPERIMENT", result.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private static async Task<System.Text.Json.JsonElement> ScenarioAsync(Dictionary<string, string> environment, params string[] args)
    {
        var run = await PythonClientPackage.RunAsync([TestPaths.PythonScript("client_scenarios.py"), "seed_everything", .. args], environment);
        Assert.True(run.ExitCode == 0, $"stderr:\n{run.Stderr}\nstdout:\n{run.Stdout}");
        using var document = System.Text.Json.JsonDocument.Parse(run.Stdout);
        return document.RootElement.Clone();
    }
}
