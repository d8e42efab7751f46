using System.Runtime.InteropServices;

namespace SeedDaemon.Client;

/// <summary>What a .NET process runs on, as flat strings (the Torch package adds TorchSharp's switches).</summary>
public static class RunEnvironment
{
    public static Dictionary<string, string> Capture(int? worldSize = null)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = Environment.MachineName,
            ["os"] = RuntimeInformation.OSDescription,
            ["dotnet"] = Environment.Version.ToString(),
            ["pid"] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["processors"] = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var name in new[] { "CUBLAS_WORKSPACE_CONFIG", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES" })
        {
            environment["env." + name] = Environment.GetEnvironmentVariable(name) ?? "(unset)";
        }

        if (worldSize is { } size)
        {
            environment["world_size"] = size.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return environment;
    }
}
