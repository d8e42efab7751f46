namespace SeedDaemon.Client.Tests;

/// <summary>
/// The two-process check on CUDA generators. It runs where TorchSharp has a CUDA libtorch backend
/// and a GPU, and is skipped (saying why) everywhere else. tests/gpu/cuda-check.sh runs the same
/// check on a GPU machine.
/// </summary>
public sealed class CudaTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    [SkippableFact]
    public async Task Two_processes_of_one_worker_draw_the_same_CUDA_numbers()
    {
        var first = await TorchWorkerProcess.RunAsync(daemon.Address, "torch/cuda", 11, "--root", "31337");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Skip.IfNot(first.Has("cuda torch.rand(8)"),
            "CUDA is not available to TorchSharp on this machine (no GPU, or no CUDA libtorch 2.10 backend: the package registry here serves only libtorch-cpu). TorchWorker said: "
            + first.Stdout.Split('\n').FirstOrDefault(l => l.Contains("CUDA generators", StringComparison.Ordinal)));

        var second = await TorchWorkerProcess.RunAsync(daemon.Address, "torch/cuda", 11);
        var other = await TorchWorkerProcess.RunAsync(daemon.Address, "torch/cuda", 12);
        Assert.Equal(first.Draws("cuda torch.rand(8)", "cuda torch.randn(8)"), second.Draws("cuda torch.rand(8)", "cuda torch.randn(8)"));
        Assert.NotEqual(first.Line("cuda torch.rand(8)"), other.Line("cuda torch.rand(8)"));
        Assert.Contains($"torch.cuda.manual_seed_all({first.Line("seed torch.cuda")})", first.Stdout, StringComparison.Ordinal);
    }
}
