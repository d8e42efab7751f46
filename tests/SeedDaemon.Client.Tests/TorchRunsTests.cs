using System.Text.Json;

namespace SeedDaemon.Client.Tests;

/// <summary>
/// Runs from .NET, at parity with seedd_client: the TorchWorker sample trains with TorchSharp and
/// fingerprints every step (SeedRun, TorchFingerprints) as separate OS processes; seedctl runs diff
/// finds an extra draw at its step, a resume that restored its RngState matches the original from
/// there and passes the resume check, and one that did not fails the check and diverges.
/// </summary>
public sealed class TorchRunsTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    private const string Experiment = "torch/runs";

    [Fact]
    public async Task A_TorchSharp_rerun_is_equal_an_extra_draw_is_found_and_the_resume_check_tells_a_restored_state_from_a_missing_one()
    {
        using var folder = new TempFolder();
        var state = folder.File("state.bin");
        var original = await TrainAsync("original", "--root", "31", "--save-state", state, "--save-at", "2");
        Assert.Equal("original", original.Line("run"));
        Assert.Equal("0", original.Line("dropped"));
        await TrainAsync("again");
        await TrainAsync("extra", "--extra-draw-step", "4");
        var resumed = await TrainAsync("resumed", "--save-state", state, "--resume-from", "original:2");
        Assert.Equal("ok", resumed.Line("resume check"));
        Assert.Equal("ok", resumed.Line("resume check of the state"));
        var forgot = await TrainAsync("forgot", "--save-state", state, "--resume-from", "original:2", "--no-restore");
        Assert.Equal("rng.torch.cpu", forgot.Line("resume check"));
        Assert.Equal("rng.torch.cpu", forgot.Line("resume check of the state"));

        Assert.True((await DiffAsync(0, "original", "again")).GetProperty("equal").GetBoolean());
        var extra = (await DiffAsync(5, "original", "extra")).GetProperty("first_divergence");
        Assert.Equal((4, "seeding"), (extra.GetProperty("step").GetInt32(), extra.GetProperty("cause").GetString()));
        var fromCheckpoint = await DiffAsync(0, "original", "resumed");
        Assert.Equal((3, 3), (fromCheckpoint.GetProperty("from_step").GetInt32(), fromCheckpoint.GetProperty("common_steps").GetInt32()));
        var diverged = (await DiffAsync(5, "original", "forgot")).GetProperty("first_divergence");
        Assert.Equal(3, diverged.GetProperty("step").GetInt32());
    }

    [Fact]
    public void A_whole_number_a_double_does_not_hold_exactly_is_refused_and_one_it_does_is_its_double()
    {
        Assert.Equal(BitConverter.GetBytes(9007199254740992.0), Digests.Scalar("n", 1L << 53).Value.ToByteArray());
        Assert.Equal(BitConverter.GetBytes(-3.0), Digests.Scalar("n", -3).Value.ToByteArray());
        var error = Assert.Throws<ArgumentException>(() => Digests.Scalar("n", (1L << 53) + 1));
        Assert.Contains("9007199254740993 is beyond 2^53", error.Message, StringComparison.Ordinal);
    }

    private async Task<TorchWorkerProcess.Output> TrainAsync(string run, params string[] extra)
    {
        var output = await TorchWorkerProcess.RunAsync(daemon.Address, Experiment, 0, ["--train", "6", "--run", run, .. extra]);
        Assert.True(output.ExitCode == 0, $"TorchWorker --train ({run}) exited {output.ExitCode}\n{output.Stdout}\n{output.Stderr}");
        Assert.Equal(run, output.Line("run"));
        return output;
    }

    private async Task<JsonElement> DiffAsync(int exitCode, string a, string b)
    {
        var result = await Seedctl.RunAsync("runs", "diff", Experiment, a, b, "--output", "json", "--address", daemon.Address);
        Assert.True(result.ExitCode == exitCode, $"runs diff {a} {b} exited {result.ExitCode}, expected {exitCode}\n{result.Stdout}\n{result.Stderr}");
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }
}
