using SeedDaemon.Client;

namespace SeedDaemon.Client.Tests;

/// <summary>
/// The TorchWorker sample as separate OS processes against a real daemon: same key, same draws in
/// every process; and the same seed in Debian's PyTorch gives bit-identical numbers.
/// </summary>
public sealed class TorchWorkerTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    private static readonly string[] FullDraws =
    [
        "torch.rand(8)", "torch.randn(8)", "torch.randint(0, 1000, (8,))", "torch.randperm(10)",
        "nn.Linear(4, 3).weight", "nn.Linear(4, 3).bias", "dataloader torch.rand(4)",
    ];

    [Fact]
    public async Task Two_processes_of_one_worker_draw_the_same_numbers_and_other_workers_differ()
    {
        const string experiment = "torch/two-processes";
        var first = await Run(experiment, 7, "--root", "20260101");
        var second = await Run(experiment, 7);
        var other = await Run(experiment, 8);

        Assert.Equal(first.Draws("torch.rand(8)", "torch.randn(8)"), second.Draws("torch.rand(8)", "torch.randn(8)"));
        Assert.Equal(first.Line("seed torch"), second.Line("seed torch"));
        Assert.NotEqual(first.Line("torch.rand(8)"), other.Line("torch.rand(8)"));
        Assert.NotEqual(first.Line("seed torch"), other.Line("seed torch"));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(3u)]
    [InlineData(3_000_000_000u)]
    public async Task PyTorch_draws_bit_identical_numbers_from_the_same_seed(uint worker)
    {
        var torchWorker = await Run("torch/pytorch-oracle", worker, "--root", "42", "--draws", "full");
        var torchSeed = torchWorker.Line("seed torch");
        var dataloaderSeed = torchWorker.Line("seed torch/dataloader");

        var pytorch = (await Python.RunScriptAsync("torch_draws.py", args: [torchSeed, dataloaderSeed]))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal(pytorch, torchWorker.Draws(FullDraws));
    }

    [Fact]
    public async Task Capture_draw_restore_draw_repeats_the_draws()
    {
        var output = await Run("torch/checkpoint", 1, "--root", "9", "--checkpoint");
        Assert.Matches("^[0-9a-f]{64}$", output.Line("checkpoint rng state sha256"));
        Assert.Equal(output.Line("draws after capture"), output.Line("draws after restore"));
    }

    [Fact]
    public async Task The_report_says_what_was_and_was_not_applied()
    {
        var output = await Run("torch/report", 2, "--root", "1");
        Assert.Contains($"applied: torch.manual_seed({output.Line("seed torch")}) on the CPU generator", output.Stdout, StringComparison.Ordinal);
        Assert.Contains("CUBLAS_WORKSPACE_CONFIG=:4096:8", output.Stdout, StringComparison.Ordinal);
        Assert.Contains("not applied: deterministic algorithms", output.Stdout, StringComparison.Ordinal);
    }

    private async Task<TorchWorkerProcess.Output> Run(string experiment, uint worker, params string[] extra)
    {
        var output = await TorchWorkerProcess.RunAsync(daemon.Address, experiment, worker, extra);
        Assert.True(output.ExitCode == 0, $"TorchWorker exited {output.ExitCode}:\n{output.Stderr}\n{output.Stdout}");
        return output;
    }

    [Fact]
    public async Task Help_prints_the_usage_and_exits_0()
    {
        var help = await ProcessRunner.RunAsync("dotnet", [TestPaths.TorchWorkerDll, "--help"]);
        Assert.True(help.ExitCode == 0, help.Stderr);
        Assert.StartsWith("Usage: TorchWorker", help.Stdout, StringComparison.Ordinal);
        foreach (var option in (string[])["--address", "--experiment", "--worker", "--root", "--draws full", "--checkpoint", "SEEDD_TOKEN"])
        {
            Assert.Contains(option, help.Stdout, StringComparison.Ordinal);
        }
    }
}
