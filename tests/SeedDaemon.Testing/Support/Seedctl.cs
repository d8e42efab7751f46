namespace SeedDaemon.Testing;

/// <summary>Runs seedctl as its own process, as a user or a script would.</summary>
public static class Seedctl
{
    public static Task<ProcessRunner.Result> RunAsync(params string[] args) => RunAsync(args, null);

    /// <summary>Runs seedctl with extra environment variables (SEEDD_ADDRESS, SEEDD_TOKEN, ...).</summary>
    public static async Task<ProcessRunner.Result> RunAsync(string[] args, IDictionary<string, string>? environment)
    {
        if (!File.Exists(TestPaths.SeedctlDll))
        {
            throw new InvalidOperationException($"{TestPaths.SeedctlDll} is missing; build the solution first.");
        }

        return await ProcessRunner.RunAsync("dotnet", [TestPaths.SeedctlDll, .. args], timeout: TimeSpan.FromMinutes(5), environment: environment);
    }

    /// <summary>Runs seedctl against <paramref name="address"/> and asserts the exit code.</summary>
    public static async Task<string> Expect(int exitCode, string address, params string[] args)
    {
        var result = await RunAsync([.. args, "--address", address]);
        Assert.True(result.ExitCode == exitCode, $"seedctl {string.Join(' ', args)} exited {result.ExitCode}, expected {exitCode}.\nstdout:\n{result.Stdout}\nstderr:\n{result.Stderr}");
        return result.Stdout + result.Stderr;
    }
}
