using TorchSharp;

namespace SeedDaemon.Client.Torch;

/// <summary>Applies a worker's <see cref="SeedBundle"/> to TorchSharp's generators.</summary>
public static class TorchSeeding
{
    public const string CublasWorkspaceVariable = "CUBLAS_WORKSPACE_CONFIG";
    public const string CublasWorkspaceValue = ":4096:8";

    /// <summary>
    /// Seeds the CPU generator with the "torch" seed, then (when CUDA is available) every CUDA
    /// generator with the "torch.cuda" seed, and creates one seeded <see cref="torch.Generator"/>
    /// per "torch" stream in the bundle (e.g. "dataloader", "augment"). Call it before any CUDA work:
    /// it sets CUBLAS_WORKSPACE_CONFIG first when absent.
    /// </summary>
    public static TorchSeedState Apply(SeedBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var applied = new List<string>();
        var notApplied = new List<string>();

        var cublas = NativeEnvironment.Get(CublasWorkspaceVariable);
        if (string.IsNullOrEmpty(cublas))
        {
            NativeEnvironment.Set(CublasWorkspaceVariable, CublasWorkspaceValue);
            cublas = CublasWorkspaceValue;
            applied.Add($"{CublasWorkspaceVariable}={CublasWorkspaceValue} (deterministic cuBLAS workspaces; takes effect if CUDA had not started)");
        }
        else
        {
            applied.Add($"{CublasWorkspaceVariable}={cublas} (already set; left as is)");
        }

        TorchRuntime.EnsureLoaded();
        var cpuSeed = bundle.Seed("torch");
        torch.manual_seed(unchecked((long)cpuSeed));
        applied.Add($"torch.manual_seed({cpuSeed}) on the CPU generator");

        var cuda = TorchRuntime.CudaAvailable();
        ulong? cudaSeed = null;
        if (cuda)
        {
            cudaSeed = bundle.Seed("torch.cuda");
            torch.cuda.manual_seed_all(unchecked((long)cudaSeed.Value));
            applied.Add($"torch.cuda.manual_seed_all({cudaSeed}) on {torch.cuda.device_count()} CUDA device(s)");
        }
        else
        {
            notApplied.Add("CUDA generators: CUDA is not available to TorchSharp here (no CUDA libtorch backend or no GPU)");
        }

        var generators = new Dictionary<string, torch.Generator>(StringComparer.Ordinal);
        foreach (var (column, seed) in bundle.Seeds)
        {
            if (column.Library == "torch" && column.Stream.Length > 0)
            {
                generators[column.Stream] = new torch.Generator(seed.Seed);
                applied.Add($"torch.Generator for stream '{column.Stream}' seeded with {seed.Seed}");
            }
        }

        notApplied.Add("deterministic algorithms: TorchSharp 0.107 has no working torch.use_deterministic_algorithms, so nondeterministic CUDA kernels (atomics in scatter/index_add, some convolutions) stay possible");
        notApplied.Add("cuDNN deterministic / benchmark switches: TorchSharp 0.107 exposes neither");
        notApplied.Add("CUDA RNG state capture: TorchSharp 0.107 has no torch.cuda.get_rng_state; per-stream generators are captured instead");

        var report = new TorchSeedReport(cpuSeed, cuda, cudaSeed, cublas, generators.Keys.Order(StringComparer.Ordinal).ToList(), applied, notApplied);
        return new TorchSeedState(report, generators);
    }
}

/// <summary>The result of applying a bundle: the report and the per-stream generators (owned; dispose them with this).</summary>
public sealed class TorchSeedState(TorchSeedReport report, IReadOnlyDictionary<string, torch.Generator> generators) : IDisposable
{
    public TorchSeedReport Report { get; } = report;

    /// <summary>One seeded generator per "torch" stream of the bundle.</summary>
    public IReadOnlyDictionary<string, torch.Generator> Generators { get; } = generators;

    public torch.Generator Generator(string stream) =>
        Generators.TryGetValue(stream, out var generator)
            ? generator
            : throw new KeyNotFoundException($"No generator for stream '{stream}': include ColumnKey(\"torch\", \"{stream}\") in the bundle.");

    public void Dispose()
    {
        foreach (var generator in Generators.Values)
        {
            generator.Dispose();
        }
    }
}
