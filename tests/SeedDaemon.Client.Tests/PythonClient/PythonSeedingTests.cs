using SeedDaemon.Derivation;
using System.Text.Json;
using SeedDaemon.V1;

namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>apply_bundle's determinism switches, RngState, tracking parameters and optional helpers, in fresh Python processes.</summary>
public sealed class PythonSeedingTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>, IAsyncLifetime
{
    private const string Experiment = "python/seeding";

    public async Task InitializeAsync() =>
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "31337" });

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Deterministic_false_changes_nothing_beyond_seeding()
    {
        var result = await PythonClientPackage.ScenarioAsync("determinism", daemon.Address, Experiment, "off");
        Assert.Equal(result.GetProperty("before").ToString(), result.GetProperty("after").ToString());
        Assert.Empty(result.GetProperty("switches").EnumerateObject());
        Assert.Contains(result.GetProperty("applied").EnumerateArray(), line => line.GetString()!.StartsWith("torch.manual_seed(", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("on", false)]
    [InlineData("warn_only", true)]
    public async Task Deterministic_true_sets_every_switch_the_seed_recipe_sets(string mode, bool warnOnly)
    {
        var result = await PythonClientPackage.ScenarioAsync("determinism", daemon.Address, Experiment, mode);
        var before = result.GetProperty("before");
        var after = result.GetProperty("after");
        Assert.False(before.GetProperty("cudnn.deterministic").GetBoolean());
        Assert.True(before.GetProperty("cudnn.benchmark").ValueKind == JsonValueKind.False || before.GetProperty("cudnn.benchmark").ValueKind == JsonValueKind.True);
        Assert.False(before.GetProperty("deterministic_algorithms").GetBoolean());
        Assert.Equal(JsonValueKind.Null, before.GetProperty("CUBLAS_WORKSPACE_CONFIG").ValueKind);

        Assert.True(after.GetProperty("cudnn.deterministic").GetBoolean());
        Assert.False(after.GetProperty("cudnn.benchmark").GetBoolean());
        Assert.True(after.GetProperty("deterministic_algorithms").GetBoolean());
        Assert.Equal(warnOnly, after.GetProperty("warn_only").GetBoolean());
        Assert.Equal(":4096:8", after.GetProperty("CUBLAS_WORKSPACE_CONFIG").GetString());

        var switches = result.GetProperty("switches");
        Assert.StartsWith("set", switches.GetProperty("CUBLAS_WORKSPACE_CONFIG").GetString(), StringComparison.Ordinal);
        Assert.Equal($"set (True, warn_only={(warnOnly ? "True" : "False")})", switches.GetProperty("torch.use_deterministic_algorithms").GetString());
        // TensorFlow is not a Debian package: the report says so instead of claiming the switch.
        Assert.StartsWith("not available: TensorFlow is not installed", switches.GetProperty("tf.config.experimental.enable_op_determinism()").GetString(), StringComparison.Ordinal);
        Assert.Contains(result.GetProperty("not_applied").EnumerateArray(), line => line.GetString() == "tensorflow: not installed");
    }

    [Fact]
    public async Task The_cuBLAS_switch_is_reported_too_late_once_CUDA_has_started()
    {
        // No GPU here: the scenario makes torch.cuda.is_initialized() answer True, as it would after the first CUDA call.
        var result = await PythonClientPackage.ScenarioAsync("determinism", daemon.Address, Experiment, "too_late");
        Assert.StartsWith("too late", result.GetProperty("switches").GetProperty("CUBLAS_WORKSPACE_CONFIG").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("after").GetProperty("CUBLAS_WORKSPACE_CONFIG").ValueKind);
    }

    [Fact]
    public async Task RngState_restores_every_generator_and_refuses_damaged_or_foreign_bytes()
    {
        var result = await PythonClientPackage.ScenarioAsync("rng", daemon.Address, Experiment);
        Assert.Equal(["cpu", "numpy", "python", "stream:augment"], result.GetProperty("parts").EnumerateArray().Select(p => p.GetString()));
        Assert.True(result.GetProperty("same_draws").GetBoolean(), $"{result.GetProperty("first")} != {result.GetProperty("again")}");
        Assert.Equal(64, result.GetProperty("sha256").GetString()!.Length);
        var refusals = result.GetProperty("refusals");
        Assert.Contains("damaged", refusals.GetProperty("damaged").GetString(), StringComparison.Ordinal);
        Assert.Contains("not an RNG state", refusals.GetProperty("foreign").GetString(), StringComparison.Ordinal);
        Assert.Contains("damaged", refusals.GetProperty("truncated").GetString(), StringComparison.Ordinal);
        Assert.Contains("stream 'augment'", refusals.GetProperty("no_generators").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task As_params_is_flat_with_64_bit_values_as_strings()
    {
        var result = await PythonClientPackage.ScenarioAsync("params", daemon.Address, Experiment);
        var parameters = result.GetProperty("params");
        var expected = await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = Experiment, Worker = 11, Library = "torch", Stream = "dataloader" });
        Assert.Equal(Experiment, parameters.GetProperty("seedd.experiment").GetString());
        Assert.Equal("31337", parameters.GetProperty("seedd.root").GetString());
        Assert.Equal(11, parameters.GetProperty("seedd.worker").GetInt32());
        Assert.Equal("seedseq-v1", parameters.GetProperty("seedd.scheme").GetString());
        Assert.Equal(expected.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture), parameters.GetProperty("seedd.seed.torch/dataloader").GetString());
        foreach (var column in new[] { "python", "numpy", "torch" })
        {
            Assert.Equal(JsonValueKind.String, parameters.GetProperty("seedd.seed." + column).ValueKind);
        }

        Assert.All(result.GetProperty("custom_prefix").EnumerateArray(), key => Assert.StartsWith("run.seeds.", key.GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_helper_of_a_missing_library_names_it_instead_of_raising_ImportError()
    {
        var result = await PythonClientPackage.ScenarioAsync("optional_helpers", daemon.Address, Experiment);
        Assert.Equal("LibraryNotInstalledError", result.GetProperty("jax").GetString());
        Assert.Equal("jax", result.GetProperty("library").GetString());
        Assert.Contains("Bundle.jax_key() needs jax", result.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_seeds_splits_what_the_daemons_limits_would_refuse()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "python/split", Root = "31" });
        var result = await PythonClientPackage.ScenarioAsync("split", daemon.Address, "python/split");
        var workers = result.GetProperty("workers").EnumerateArray().Select(w => w.GetUInt32()).ToList();
        Assert.Equal(Enumerable.Range(0, 6000).Select(w => (uint)(5999 - w)), workers);
        Assert.Equal(SeedSeqV1.Derive(31, 5999, "numpy", "").Seed.ToString(System.Globalization.CultureInfo.InvariantCulture), result.GetProperty("seeds")[0].GetString());
        Assert.Equal(6000ul, (await daemon.Audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "python/split" })).EventsChecked);

        var sizes = result.GetProperty("batch_sizes").EnumerateArray().Select(s => s.GetInt32()).ToList();
        Assert.True(sizes.Count >= 4, string.Join(", ", sizes));
        Assert.All(sizes, size => Assert.InRange(size, 1, 65536));
        Assert.Equal(1000, result.GetProperty("batched_keys").GetInt32());
        Assert.True(result.GetProperty("in_order").GetBoolean());
    }
}
