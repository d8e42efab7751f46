namespace SeedDaemon.Testing;

/// <summary>Runs the TorchWorker sample as its own OS process and parses its "name: value" lines.</summary>
public static class TorchWorkerProcess
{
    public sealed record Output(int ExitCode, string Stdout, string Stderr)
    {
        public string Line(string name) =>
            Stdout.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(name + ": ", StringComparison.Ordinal))?[(name.Length + 2)..]
            ?? throw new InvalidOperationException($"TorchWorker printed no '{name}:' line. stdout:\n{Stdout}\nstderr:\n{Stderr}");

        public bool Has(string name) => Stdout.Split('\n').Any(l => l.StartsWith(name + ": ", StringComparison.Ordinal));

        /// <summary>The draw lines, in order, as other clients are compared against them.</summary>
        public IReadOnlyList<string> Draws(params string[] names) => names.Select(n => $"{n}: {Line(n)}").ToList();
    }

    public static Task<Output> RunAsync(string address, string experiment, uint worker, params string[] extra) => RunAsync(null, address, experiment, worker, extra);

    /// <summary>Runs TorchWorker with extra environment variables (SEEDD_TOKEN, SEEDD_RETRY_TIMEOUT, ...).</summary>
    public static async Task<Output> RunAsync(IDictionary<string, string>? environment, string address, string experiment, uint worker, params string[] extra)
    {
        if (!File.Exists(TestPaths.TorchWorkerDll))
        {
            throw new InvalidOperationException($"{TestPaths.TorchWorkerDll} is missing; build the solution first.");
        }

        var result = await ProcessRunner.RunAsync("dotnet", [TestPaths.TorchWorkerDll, "--address", address, "--experiment", experiment, "--worker", worker.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extra], timeout: TimeSpan.FromMinutes(2), environment: environment);
        return new Output(result.ExitCode, result.Stdout, result.Stderr);
    }
}
