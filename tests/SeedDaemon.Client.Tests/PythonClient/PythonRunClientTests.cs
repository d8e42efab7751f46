using SeedDaemon.V1;

namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>
/// seedd_client's runs, as a user trips over them: what the daemon would refuse for a whole report
/// is refused at the call, naming it; a run id reused by another launch is said in the log; the
/// launcher's restart count makes a run of its own; reports are split to fit the message limit.
/// </summary>
public sealed class PythonRunClientTests(PythonRunClientTests.SmallMessagesDaemon daemon) : IClassFixture<PythonRunClientTests.SmallMessagesDaemon>, IAsyncLifetime
{
    private const string Experiment = "python/run-client";

    public async Task InitializeAsync() =>
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "12" });

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Bad_names_and_steps_are_refused_at_the_call_and_a_reused_run_id_is_said_in_the_log()
    {
        var result = await PythonAsync("""
            import logging, sys
            logging.basicConfig(stream=sys.stdout, format="LOG %(message)s")
            from seedd_client import SeedClient
            client = SeedClient(ADDRESS)
            for bad in ({"Loss": 1.0}, {"val/loss": 1.0}, {"rng.python": 1.0}):
                run = client.start_run(run_id="names", experiment_id=EXPERIMENT, worker=0)
                try:
                    run.fingerprint(0, values=bad)
                    print("ACCEPTED", bad)
                except ValueError as error:
                    print("REFUSED", error)
                run.close()
            import numpy as np, torch
            from seedd_client.runs import value_digest
            run = client.start_run(run_id="values", experiment_id=EXPERIMENT, worker=0)
            for step, bad in enumerate((2**53 + 1, 10**400, torch.zeros(2, dtype=torch.complex128), [2**64])):
                try:
                    run.fingerprint(step, values={"v": bad}, generators=False)
                    print("ACCEPTED", type(bad).__name__)
                except (TypeError, ValueError) as error:
                    print("REFUSED", error)
            print("NUMPY LIST", value_digest(list(np.arange(3))) == value_digest([0, 1, 2]), value_digest(np.bool_(True)) == value_digest(True))
            for bad in ([np.bool_(True), np.bool_(False)], [True, False], [torch.tensor(1)]):
                try:
                    value_digest(bad)
                    print("ACCEPTED", bad)
                except TypeError as error:
                    print("NOT INTS", error)
            client.start_run(run_id="numpy-step", experiment_id=EXPERIMENT, worker=0, resumed_from=("steps", np.int64(3))).close()
            run.close()
            run = client.start_run(run_id="steps", experiment_id=EXPERIMENT, worker=0)
            run.fingerprint(5)
            try:
                run.fingerprint(5)
            except ValueError as error:
                print("REFUSED", error)
            run.close()
            try:
                client.start_run(run_id="has space", experiment_id=EXPERIMENT, worker=0)
            except ValueError as error:
                print("REFUSED", error)
            for resumed in (("steps", -1), ("bad id!", 3), "steps:3"):
                try:
                    client.start_run(run_id="resumed", experiment_id=EXPERIMENT, worker=0, resumed_from=resumed)
                    print("ACCEPTED", resumed)
                except ValueError as error:
                    print("REFUSED", error)
            from seedd_client import SeeddError
            try:
                client.start_run(run_id="typo", experiment_id="python/no-such-experiment", worker=0)
                print("ACCEPTED unknown experiment")
            except SeeddError as error:
                print("REFUSED", type(error).__name__, error)
            run = client.start_run(run_id="mismatch", experiment_id=EXPERIMENT, worker=0)
            try:
                run.check_restored(None, step=0, on_mismatch="Raise")
                print("ACCEPTED on_mismatch")
            except ValueError as error:
                print("REFUSED", error)
            run.close()
            again = client.start_run(run_id="steps", experiment_id=EXPERIMENT, worker=0)
            again.fingerprint(5)
            again.close()
            """);
        Assert.Equal(14, result.Split('\n').Count(l => l.StartsWith("REFUSED", StringComparison.Ordinal)));
        Assert.DoesNotContain("ACCEPTED", result, StringComparison.Ordinal);
        Assert.Contains("value name 'Loss' must match", result, StringComparison.Ordinal);
        Assert.Contains("taken by a generator's digest", result, StringComparison.Ordinal);
        Assert.Contains("step 5 is not above the last step fingerprinted (5)", result, StringComparison.Ordinal);
        Assert.Contains("run id 'has space' must match", result, StringComparison.Ordinal);
        Assert.Contains("reuses its run id", result, StringComparison.Ordinal);
        Assert.Contains("resumed_from's step must be an int from 0", result, StringComparison.Ordinal);
        Assert.Contains("run id 'bad id!' must match", result, StringComparison.Ordinal);
        Assert.Contains("resumed_from must be (run id, step), got 'steps:3'", result, StringComparison.Ordinal);
        Assert.Contains("on_mismatch must be 'raise' or 'warn', got 'Raise'", result, StringComparison.Ordinal);
        Assert.Contains("the integer 9007199254740993 is beyond 2**53", result, StringComparison.Ordinal);
        Assert.Contains("cannot fingerprint a torch.complex128 tensor: give torch.view_as_real(tensor)", result, StringComparison.Ordinal);
        Assert.Contains("in a list of ints does not fit 64 bits", result, StringComparison.Ordinal);
        Assert.Contains("NUMPY LIST True True", result, StringComparison.Ordinal);
        Assert.Equal(3, result.Split('\n').Count(l => l.StartsWith("NOT INTS cannot fingerprint a list", StringComparison.Ordinal)));
        Assert.Contains("REFUSED ExperimentNotFoundError seedd at ", result, StringComparison.Ordinal);
        Assert.Contains("Experiment 'python/no-such-experiment' does not exist", result, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_run_id_comes_from_the_launcher_a_restart_is_a_run_of_its_own_and_large_reports_are_split()
    {
        var result = await PythonAsync("""
            from seedd_client import SeedClient
            from seedd_client.runs import run_id_from_environment
            print("ID", run_id_from_environment({"TORCHELASTIC_RUN_ID": "job7", "TORCHELASTIC_RESTART_COUNT": "0"})[0])
            print("ID", run_id_from_environment({"TORCHELASTIC_RUN_ID": "job7", "TORCHELASTIC_RESTART_COUNT": "2"})[0])
            print("ID", run_id_from_environment({"SLURM_JOB_ID": "991", "SLURM_ARRAY_TASK_ID": "3"})[0])
            try:
                run_id_from_environment({"WORLD_SIZE": "8"})
            except RuntimeError as error:
                print("REFUSED", error)
            client = SeedClient(ADDRESS, max_message_bytes=8192)  # the daemon's Seedd:MaxMessageBytes here
            with client.start_run(run_id="split", experiment_id=EXPERIMENT, worker=1) as run:
                for step in range(60):
                    run.fingerprint(step, values={f"value-{i}": float(i + step) for i in range(20)})
            print("SENT", run.sent, "REJECTED", run.rejected, "DROPPED", run.dropped)
            """);
        Assert.Contains("ID job7\n", result, StringComparison.Ordinal);
        Assert.Contains("ID job7-restart-2\n", result, StringComparison.Ordinal);
        Assert.Contains("ID slurm-991-3\n", result, StringComparison.Ordinal);
        Assert.Contains("Set SEEDD_RUN to the same value in every process", result, StringComparison.Ordinal);
        Assert.Contains("SENT 60 REJECTED 0 DROPPED 0", result, StringComparison.Ordinal);
        var run = await new RunService.RunServiceClient(daemon.Channel).GetRunAsync(new GetRunRequest { ExperimentId = Experiment, RunId = "split" });
        Assert.Equal(60, run.Summary.Fingerprints);
    }

    /// <summary>A daemon whose message limit (8 KiB) a backlog of fingerprints crosses.</summary>
    public sealed class SmallMessagesDaemon : InProcessDaemon
    {
        protected override void Configure(Dictionary<string, string?> settings, TempFolder folder) => settings["Seedd:MaxMessageBytes"] = "8192";
    }

    [Fact]
    public async Task Close_with_seedd_gone_returns_within_its_timeout_and_says_what_was_not_sent()
    {
        using var refusing = Ports.Refusing();
        var result = await PythonAsync($$"""
            import logging, sys, time
            logging.basicConfig(stream=sys.stdout, format="LOG %(message)s")
            from seedd_client import SeedClient
            client = SeedClient("127.0.0.1:{{refusing.Port}}", retry_timeout=60, timeout=1)
            run = client.start_run(run_id="gone", experiment_id=EXPERIMENT, worker=0)
            run.fingerprint(0, values={"loss": 1.0})
            started = time.monotonic()
            run.close(timeout=2)
            print("CLOSED", round(time.monotonic() - started, 1))
            """);
        var seconds = double.Parse(result.Split('\n').Single(l => l.StartsWith("CLOSED ", StringComparison.Ordinal))[7..], System.Globalization.CultureInfo.InvariantCulture);

        // 2 s of flushing and up to 5 s for the sender to stop; it asked for no checkpoint for another 60 s of retries.
        Assert.True(seconds < 12, $"close(timeout=2) took {seconds} s:\n{result}");
        Assert.Contains("step(s) could not be sent to seedd before close", result, StringComparison.Ordinal);
        Assert.Contains("no signed checkpoint of 'python/run-client' at close: seedd did not take the run within 2 s", result, StringComparison.Ordinal);
    }

    private async Task<string> PythonAsync(string code)
    {
        var script = $"ADDRESS = {System.Text.Json.JsonSerializer.Serialize(daemon.Address)}\nEXPERIMENT = {System.Text.Json.JsonSerializer.Serialize(Experiment)}\n" + code;
        var result = await PythonClientPackage.RunAsync(["-c", script]);
        Assert.True(result.ExitCode == 0, $"python exited {result.ExitCode}\n{result.Stdout}\n{result.Stderr}");
        return result.Stdout.Replace("\r", "", StringComparison.Ordinal);
    }
}
