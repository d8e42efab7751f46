using System.Text.Json;
using SeedDaemon.V1;

namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>
/// Did a rerun reproduce, and where did it first go apart? A small real PyTorch training job
/// (train_runs.py: an MLP with dropout, a DataLoader with two worker processes and shuffling, seeds
/// from seedd) runs as three ranks, each a process of its own, and fingerprints every step; then
/// <c>seedctl runs diff</c> compares two runs. Each scenario changes one thing on purpose and checks
/// that the diff finds that step, that rank and that kind of cause. On both backends.
/// </summary>
public abstract class RunsTests<TDaemon>(TDaemon daemon) : IClassFixture<TDaemon>, IAsyncLifetime
    where TDaemon : ConformanceDaemon
{
    private const int Ranks = 3;
    private readonly string _experiment = "python/runs-" + Guid.NewGuid().ToString("N")[..8];
    private readonly TempFolder _checkpoints = new();

    public async Task InitializeAsync() =>
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = _experiment, Root = "20261206" });

    public Task DisposeAsync()
    {
        _checkpoints.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Two_runs_of_the_same_job_are_equal_and_one_extra_draw_is_found_at_its_step_rank_and_generator()
    {
        await TrainAsync("first");
        await TrainAsync("again");
        await TrainAsync("extra-draw", "--on-rank", "1", "--extra-draw-step", "7");

        var equal = await DiffAsync(0, "first", "again");
        Assert.True(equal.GetProperty("equal").GetBoolean());
        Assert.Equal(12, equal.GetProperty("common_steps").GetInt32());
        Assert.Equal(12 * Ranks, equal.GetProperty("compared_cells").GetInt32());

        var diverged = await DiffAsync(5, "first", "extra-draw");
        var first = diverged.GetProperty("first_divergence");
        Assert.Equal(7, first.GetProperty("step").GetInt32());
        Assert.Equal("seeding", first.GetProperty("cause").GetString());
        Assert.Equal([1], first.GetProperty("workers").EnumerateArray().Select(w => w.GetInt32()));
        var digests = first.GetProperty("digests").EnumerateArray().ToList();
        Assert.Equal(["rng.torch.cpu"], digests.Select(d => d.GetProperty("name").GetString()));
        Assert.Equal(6, digests[0].GetProperty("previous_equal_step").GetInt32());
        Assert.Contains("between steps 6 and 7", first.GetProperty("explanation").GetString(), StringComparison.Ordinal);

        // What a person sees: the report, rendered by a real browser, names the step and the rank.
        using var folder = new TempFolder();
        var html = folder.File("diff.html");
        await DiffAsync(5, "first", "extra-draw", "--html", html);
        var dom = await ChromiumAsync("--dump-dom", html);
        Assert.Contains("Diverged at step <b id=\"first-step\">7</b>", dom, StringComparison.Ordinal);
        Assert.Contains("<b id=\"first-workers\">1</b>", dom, StringComparison.Ordinal);
        Assert.Contains("rng.torch.cpu", dom, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", File.ReadAllText(html).Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var screenshot = Path.Combine(AppContext.BaseDirectory, "TestResults", $"runs-diff-{daemon.Backend}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await ChromiumAsync("--window-size=1280,1100", $"--screenshot={screenshot}", html);
        Assert.True(new FileInfo(screenshot).Length > 10_000, $"{screenshot} is missing or blank");
    }

    [Fact]
    public async Task A_change_to_the_computation_alone_is_told_apart_from_seeding()
    {
        // A one-ulp learning rate on rank 2 at step 4, which also runs with two intra-op threads: the
        // thread count alone may leave this small model's bytes unchanged, the ulp never does.
        await TrainAsync("base");
        await TrainAsync("ulp", "--on-rank", "2", "--lr-ulp-step", "4", "--threads", "2");

        var diff = await DiffAsync(5, "base", "ulp");
        var first = diff.GetProperty("first_divergence");
        Assert.Equal(4, first.GetProperty("step").GetInt32());
        Assert.Equal("computation", first.GetProperty("cause").GetString());
        Assert.Equal([2], first.GetProperty("workers").EnumerateArray().Select(w => w.GetInt32()));
        Assert.Equal(["model"], first.GetProperty("digests").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        Assert.Contains("are equal: a nondeterministic computation, or a changed input", first.GetProperty("explanation").GetString(), StringComparison.Ordinal);
        var threads = Assert.Single(diff.GetProperty("environment_differences").EnumerateArray(), e => e.GetProperty("key").GetString() == "torch.threads");
        Assert.Equal((2, "1", "2"), (threads.GetProperty("worker").GetInt32(), threads.GetProperty("a").GetString(), threads.GetProperty("b").GetString()));
    }

    [Fact]
    public async Task A_resume_with_its_state_restored_matches_the_original_and_one_without_is_flagged_at_once_and_by_the_diff()
    {
        await TrainAsync("original", "--checkpoint", _checkpoints.Path);
        var restored = await TrainAsync("resumed", "--checkpoint", _checkpoints.Path, "--resume-from", "original:5");
        Assert.All(restored, r => Assert.Empty(r.GetProperty("resume_check").EnumerateArray()));
        Assert.All(restored, r => Assert.Empty(r.GetProperty("resume_check_state").EnumerateArray()));
        var equal = await DiffAsync(0, "original", "resumed");
        Assert.Equal(6, equal.GetProperty("from_step").GetInt32());
        Assert.Equal(6, equal.GetProperty("common_steps").GetInt32());

        var forgot = await TrainAsync("resumed-without-state", "--checkpoint", _checkpoints.Path, "--resume-from", "original:5", "--no-restore");
        Assert.All(forgot, r => Assert.Contains("rng.torch.cpu", r.GetProperty("resume_check").EnumerateArray().Select(n => n.GetString())));
        // Checked against the checkpoint's state it never restored: that state is the original's, this process's generators are not.
        Assert.All(forgot, r => Assert.Contains("rng.torch.cpu", r.GetProperty("resume_check_state").EnumerateArray().Select(n => n.GetString())));
        var diverged = await DiffAsync(5, "original", "resumed-without-state");
        Assert.Equal(6, diverged.GetProperty("first_divergence").GetProperty("step").GetInt32());
        Assert.Equal("seeding", diverged.GetProperty("first_divergence").GetProperty("cause").GetString());

        var runs = await new RunService.RunServiceClient(daemon.Channel).GetRunAsync(new GetRunRequest { ExperimentId = _experiment, RunId = "resumed" });
        Assert.Equal(("original", 5L), (runs.Summary.ResumedFrom.RunId, runs.Summary.ResumedFrom.Step));
        Assert.Equal((6L, 11L), (runs.Summary.FirstStep, runs.Summary.LastStep));
    }

    [Fact]
    public async Task A_process_killed_mid_run_keeps_every_acknowledged_report_and_the_diff_shows_the_gap()
    {
        await TrainAsync("whole");
        var killed = await LaunchAsync("killed", ["--on-rank", "1", "--die-at-step", "3"]);
        var victim = killed.Single(r => r.Result.ExitCode != 0);
        Assert.Equal(128 + 9, victim.Result.ExitCode); // SIGKILL
        Assert.Contains("\"flushed\": 3", victim.Result.Stdout, StringComparison.Ordinal);

        var run = await new RunService.RunServiceClient(daemon.Channel).GetRunAsync(new GetRunRequest { ExperimentId = _experiment, RunId = "killed" });
        var process = run.Processes.Single(p => p.Worker == 1);
        Assert.InRange(process.LastStep, 3, 5);
        Assert.Equal(process.LastStep + 1, process.Steps);

        var diff = await DiffAsync(0, "whole", "killed");
        var gap = Assert.Single(diff.GetProperty("coverage").GetProperty("only_in_a").EnumerateArray());
        Assert.Equal(1, gap.GetProperty("worker").GetInt32());
        Assert.Equal(process.LastStep + 1, gap.GetProperty("first_step").GetInt64());
        Assert.Equal(11, gap.GetProperty("last_step").GetInt32());
    }

    /// <summary>Two runs on one GPU with the determinism switches on are equal, digests of CUDA generators and of the model on the device included.</summary>
    [SkippableFact]
    public async Task Two_runs_on_one_GPU_with_deterministic_switches_are_equal()
    {
        var probe = await PythonClientPackage.RunAsync(["-c", "import torch; print(torch.cuda.is_available())"]);
        Skip.IfNot(probe.Stdout.Trim() == "True", "CUDA is not available to PyTorch here (torch.cuda.is_available() is False: no GPU was lent to this machine); tests/gpu/cuda-check.sh runs the CUDA checks on a device");
        await TrainAsync("gpu-a", "--device", "cuda");
        await TrainAsync("gpu-b", "--device", "cuda");
        var equal = await DiffAsync(0, "gpu-a", "gpu-b");
        Assert.True(equal.GetProperty("equal").GetBoolean());
    }

    private async Task<List<JsonElement>> TrainAsync(string run, params string[] args)
    {
        var results = await LaunchAsync(run, args);
        foreach (var (rank, result) in results.Select((r, i) => (i, r.Result)))
        {
            Assert.True(result.ExitCode == 0, $"rank {rank} of {run} exited {result.ExitCode}\nstderr:\n{result.Stderr}\nstdout:\n{result.Stdout}");
        }

        return results.Select(r => r.Json!.Value).ToList();
    }

    /// <summary>The ranks of one launch, each its own process with the variables a launcher sets.</summary>
    private async Task<List<(ProcessRunner.Result Result, JsonElement? Json)>> LaunchAsync(string run, string[] args)
    {
        var ranks = Enumerable.Range(0, Ranks).Select(rank => PythonClientPackage.RunAsync(
            [TestPaths.PythonScript("train_runs.py"), .. args],
            new Dictionary<string, string>
            {
                ["SEEDD_ADDRESS"] = daemon.Address,
                ["SEEDD_EXPERIMENT"] = _experiment,
                ["SEEDD_RUN"] = run,
                ["RANK"] = rank.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["WORLD_SIZE"] = Ranks.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            TimeSpan.FromMinutes(4)));
        var results = await Task.WhenAll(ranks);
        return results.Select(r => (r, r.ExitCode == 0 ? (JsonElement?)JsonDocument.Parse(r.Stdout.Trim().Split('\n')[^1]).RootElement.Clone() : null)).ToList();
    }

    private async Task<JsonElement> DiffAsync(int exitCode, string a, string b, params string[] extra)
    {
        var result = await Seedctl.RunAsync(["runs", "diff", _experiment, a, b, "--output", "json", "--address", daemon.Address, .. extra]);
        Assert.True(result.ExitCode == exitCode, $"runs diff {a} {b} exited {result.ExitCode}, expected {exitCode}\nstdout:\n{result.Stdout}\nstderr:\n{result.Stderr}");
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    private static async Task<string> ChromiumAsync(params string[] args)
    {
        const string Chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing (tests/run-all.sh installs the chromium package)");
        var result = await ProcessRunner.RunAsync(Chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", .. args[..^1], "file://" + args[^1]], timeout: TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"chromium exited {result.ExitCode}\n{result.Stderr}");
        return result.Stdout;
    }
}

public sealed class EmbeddedRunsTests(EmbeddedDaemon daemon) : RunsTests<EmbeddedDaemon>(daemon);

public sealed class PostgresRunsTests(PostgresDaemon daemon) : RunsTests<PostgresDaemon>(daemon);
