namespace SeedDaemon.Client.Tests;

/// <summary>
/// TorchSharp 0.107's native library asks for GLIBCXX_3.4.32. The build bridges that in the output
/// copy (TorchWorker loads and computes, see TorchWorkerTests); without the bridge, on an older
/// libstdc++, the SDK's error names the cause and the remedy instead of TorchSharp's misleading one.
/// </summary>
public sealed class LibstdcxxBridgeTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    [Fact]
    public async Task Without_the_bridge_the_error_names_the_libstdcxx_gap()
    {
        var original = Path.Combine(NuGetPackages(), "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(original), $"{original} is missing; restore the solution first.");

        // The sample's output, linked file by file, with the package's unpatched native library.
        using var folder = new TempFolder();
        var sampleDir = Path.GetDirectoryName(TestPaths.TorchWorkerDll)!;
        foreach (var file in Directory.EnumerateFiles(sampleDir, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(folder.Path, Path.GetRelativePath(sampleDir, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (Path.GetFileName(file) == "libLibTorchSharp.so")
            {
                File.Copy(original, target);
            }
            else if (Path.GetFileName(file).StartsWith("TorchWorker.", StringComparison.Ordinal))
            {
                // The host resolves a linked app to its real folder; the app itself must be a copy.
                File.Copy(file, target);
            }
            else
            {
                File.CreateSymbolicLink(target, file);
            }
        }

        await daemon.Seeds.CreateExperimentAsync(new V1.CreateExperimentRequest { ExperimentId = "torch/bridge", Root = "1" });
        var result = await ProcessRunner.RunAsync("dotnet", [Path.Combine(folder.Path, "TorchWorker.dll"), "--address", daemon.Address, "--experiment", "torch/bridge", "--worker", "0"]);

        if (SystemHasGlibcxx3432())
        {
            Assert.True(result.ExitCode == 0, "with GCC 13's libstdc++ the unpatched library loads: " + result.Stderr);
            return;
        }

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("needs GLIBCXX_3.4.32", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Remedy", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("doesn't contain a reference", result.Stderr.Split("Loader said:")[0], StringComparison.Ordinal);
    }

    private static string NuGetPackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static bool SystemHasGlibcxx3432()
    {
        var candidates = new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6" };
        var path = candidates.FirstOrDefault(File.Exists);
        if (path is null)
        {
            return false;
        }

        var bytes = File.ReadAllBytes(path);
        var needle = "GLIBCXX_3.4.32\0"u8.ToArray();
        return bytes.AsSpan().IndexOf(needle) >= 0;
    }
}
