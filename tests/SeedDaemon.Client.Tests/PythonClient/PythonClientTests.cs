using System.Globalization;

namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>
/// The installed Python client against a real daemon: bit-identical with the .NET SDK's TorchWorker,
/// its pure-Python seedseq-v1 equal to NumPy, its NumPy Generator and scikit-learn seeds.
/// </summary>
public sealed class PythonClientTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    [Theory]
    [InlineData(0u)]
    [InlineData(17u)]
    [InlineData(3_000_000_000u)]
    public async Task The_Python_sample_and_TorchWorker_draw_the_same_numbers(uint worker)
    {
        var experiment = $"python/twin-{worker}";
        var dotnet = await TorchWorkerProcess.RunAsync(daemon.Address, experiment, worker, "--root", "777");
        Assert.True(dotnet.ExitCode == 0, dotnet.Stderr);

        // The experiment exists now: the Python sample uses it as it is (no --root).
        var python = await PythonClientPackage.RunAsync(["-m", "seedd_client.sample", "--address", daemon.Address, "--experiment", experiment, "--worker", worker.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(python.ExitCode == 0, python.Stderr);
        var output = new TorchWorkerProcess.Output(python.ExitCode, python.Stdout, python.Stderr);

        Assert.Equal(dotnet.Draws("torch.rand(8)", "torch.randn(8)"), output.Draws("torch.rand(8)", "torch.randn(8)"));
        foreach (var column in new[] { "seed torch", "seed numpy", "seed python", "seed python.hash", "seed dotnet", "seed torch/dataloader" })
        {
            Assert.Equal(dotnet.Line(column), output.Line(column));
        }

        Assert.Equal(4, output.Line("numpy.generator.random(4)").Split(' ').Length);
    }

    [Fact]
    public async Task The_sample_names_a_missing_experiment_instead_of_creating_it()
    {
        var python = await PythonClientPackage.RunAsync(["-m", "seedd_client.sample", "--address", daemon.Address, "--experiment", "python/never-created", "--worker", "1"]);
        Assert.NotEqual(0, python.ExitCode);
        Assert.Contains("NOT_FOUND: Experiment 'python/never-created' does not exist", python.Stderr, StringComparison.Ordinal);
        await RpcAssert.FailsWith(Grpc.Core.StatusCode.NotFound, async () => await daemon.Seeds.GetExperimentAsync(new V1.GetExperimentRequest { ExperimentId = "python/never-created" }));
    }

    [Fact]
    public async Task The_Python_client_verifies_and_agrees_with_NumPy_and_scikit_learn()
    {
        var summary = await PythonClientPackage.ScenarioAsync("checks", daemon.Address, "python/checks", System.Environment.TickCount.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(1000, summary.GetProperty("keys_checked").GetInt32());
        Assert.Equal(9, summary.GetProperty("bundle").GetInt32());

        var events = await daemon.Audit.ListEventsAsync(new V1.ListEventsRequest { ExperimentId = "python/checks" });
        Assert.NotEmpty(events.Events);
        Assert.All(events.Events, e => Assert.Equal("python-checks", e.ClientLabels["job"]));
    }
}
