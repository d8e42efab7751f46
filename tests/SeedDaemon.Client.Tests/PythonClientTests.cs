using System.Globalization;
using System.Text.Json;

namespace SeedDaemon.Client.Tests;

/// <summary>
/// The Python client (src/Client/python) against a real daemon: bit-identical with the .NET SDK's
/// TorchWorker, its pure-Python seedseq-v1 equal to NumPy, its NumPy Generator and scikit-learn seeds.
/// </summary>
public sealed class PythonClientTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>, IDisposable
{
    private readonly TempFolder _stubs = new();

    private Dictionary<string, string> Environment => new()
    {
        ["PYTHONPATH"] = Path.Combine(TestPaths.RepoRoot, "src", "Client", "python") + ":" + Path.Combine(AppContext.BaseDirectory, "Python"),
        ["SEEDD_STUB_CACHE"] = _stubs.Path,
    };

    [Theory]
    [InlineData(0u)]
    [InlineData(17u)]
    [InlineData(3_000_000_000u)]
    public async Task The_Python_sample_and_TorchWorker_draw_the_same_numbers(uint worker)
    {
        var experiment = $"python/twin-{worker}";
        var dotnet = await TorchWorkerProcess.RunAsync(daemon.Address, experiment, worker, "--root", "777");
        Assert.True(dotnet.ExitCode == 0, dotnet.Stderr);

        var python = await ProcessRunner.RunAsync(Python.Interpreter, ["-m", "seedd_client.sample", "--address", daemon.Address, "--experiment", experiment, "--worker", worker.ToString(CultureInfo.InvariantCulture)], environment: Environment);
        Assert.True(python.ExitCode == 0, python.Stderr);
        var output = new TorchWorkerProcess.Output(python.ExitCode, python.Stdout, python.Stderr);

        Assert.Equal(dotnet.Draws("torch.rand(8)", "torch.randn(8)"), output.Draws("torch.rand(8)", "torch.randn(8)"));
        foreach (var column in new[] { "seed torch", "seed numpy", "seed python", "seed python.hash", "seed dotnet", "seed torch/dataloader" })
        {
            Assert.Equal(dotnet.Line(column), output.Line(column));
        }

        var draws = output.Line("numpy.generator.random(4)").Split(' ');
        Assert.Equal(4, draws.Length);
    }

    [Fact]
    public async Task The_Python_client_verifies_and_agrees_with_NumPy_and_scikit_learn()
    {
        var result = await ProcessRunner.RunAsync(Python.Interpreter, [Path.Combine(AppContext.BaseDirectory, "Python", "python_client_checks.py"), daemon.Address, "python/checks", System.Environment.TickCount.ToString(CultureInfo.InvariantCulture)], environment: Environment);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        using var summary = JsonDocument.Parse(result.Stdout);
        Assert.Equal(1000, summary.RootElement.GetProperty("keys_checked").GetInt32());
        Assert.Equal(9, summary.RootElement.GetProperty("bundle").GetInt32());

        var events = await daemon.Audit.ListEventsAsync(new V1.ListEventsRequest { ExperimentId = "python/checks" });
        Assert.All(events.Events, e => Assert.Equal("python-checks", e.ClientLabels["job"]));
    }

    public void Dispose() => _stubs.Dispose();
}
