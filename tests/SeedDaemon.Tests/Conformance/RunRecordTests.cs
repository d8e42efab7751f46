using Google.Protobuf;
using Grpc.Core;
using SeedDaemon.Client;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Conformance;

/// <summary>
/// RunService on its own: what a report may hold, what is kept when a step comes twice, and what
/// is read back, in (step, worker) order. Every refusal names its field and records nothing.
/// </summary>
public abstract class RunRecordTests<TDaemon>(TDaemon daemon) : IClassFixture<TDaemon>
    where TDaemon : ConformanceDaemon
{
    private RunService.RunServiceClient Runs => new(daemon.Channel);

    [Theory]
    [InlineData("steps[0].step", "step -1 is negative")]
    [InlineData("steps[1].step", "not above steps[0].step")]
    [InlineData("steps", "a report holds 1 to 1000 steps, got 1001")]
    [InlineData("steps[0].digests", "a step has 1 to 64")]
    [InlineData("steps[0].digests[0].name", "must match ^[a-z0-9][a-z0-9._-]{0,63}$")]
    [InlineData("steps[0].digests[1].name", "appears twice")]
    [InlineData("steps[0].digests[0].value", "a scalar exactly 8")]
    [InlineData("steps[0].digests[0].kind", "has no kind")]
    [InlineData("run_id", "run_id '")]
    public async Task A_malformed_report_is_refused_naming_its_field_and_records_nothing(string field, string message)
    {
        var experiment = await ExperimentAsync("runs/bad-input");
        var request = Report(experiment, "good", 0, Step(1));
        switch (field, message)
        {
            case ("steps[0].step", _): request.Steps[0].Step = -1; break;
            case ("steps[1].step", _): request.Steps.Add(Step(1)); break;
            case ("steps", _): request.Steps.Clear(); request.Steps.AddRange(Enumerable.Range(0, 1001).Select(s => Step(s))); break;
            case ("steps[0].digests", _): request.Steps[0].Digests.AddRange(Enumerable.Range(0, 64).Select(i => Digest($"value-{i}", DigestKind.Bytes, 1))); break;
            case ("steps[0].digests[0].name", _): request.Steps[0].Digests[0].Name = "Loss"; break;
            case ("steps[0].digests[1].name", _): request.Steps[0].Digests.Add(Digest("rng.torch.cpu", DigestKind.Generator, 2)); break;
            case ("steps[0].digests[0].value", _): request.Steps[0].Digests[0] = Digest("loss", DigestKind.Scalar, 1); break;
            case ("steps[0].digests[0].kind", _): request.Steps[0].Digests[0].Kind = DigestKind.Unspecified; break;
            case ("run_id", _): request.RunId = new string('r', 129); break;
        }

        var error = await RpcAssert.InvalidField(field, async () => await Runs.ReportFingerprintsAsync(request));
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);
        Assert.Empty((await Runs.ListRunsAsync(new ListRunsRequest { ExperimentId = experiment })).Runs);
    }

    [Fact]
    public async Task An_unknown_experiment_is_NOT_FOUND_and_a_frozen_one_takes_reports()
    {
        await RpcAssert.FailsWith(StatusCode.NotFound, async () => await Runs.ReportFingerprintsAsync(Report("runs/none", "r", 0, Step(1))));
        var frozen = await ExperimentAsync("runs/frozen");
        await daemon.Seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = frozen });
        var answer = await Runs.ReportFingerprintsAsync(Report(frozen, "reproduction", 0, Step(1)));
        Assert.Equal(1, answer.Recorded);
    }

    [Fact]
    public async Task A_step_sent_again_is_a_repeat_a_different_one_a_conflict_kept_out_and_one_going_backwards_is_refused()
    {
        var experiment = await ExperimentAsync("runs/again");
        Assert.Equal(3, (await Runs.ReportFingerprintsAsync(Report(experiment, "r", 2, Step(3), Step(5), Step(9)))).Recorded);
        var again = await Runs.ReportFingerprintsAsync(Report(experiment, "r", 2, Step(5), Step(9, value: 7), Step(10)));
        Assert.Equal((1L, 1L, 1L), (again.Recorded, again.Repeats, again.Conflicts));

        var error = await RpcAssert.InvalidField("steps[0].step", async () => await Runs.ReportFingerprintsAsync(Report(experiment, "r", 2, Step(4), Step(11))));
        Assert.Contains("step 4 goes backwards: worker 2 of run 'r' last reported step 10", error.Status.Detail, StringComparison.Ordinal);

        var run = await Runs.GetRunAsync(new GetRunRequest { ExperimentId = experiment, RunId = "r" });
        var process = Assert.Single(run.Processes);
        Assert.Equal((3L, 10L, 4L, 1L), (process.FirstStep, process.LastStep, process.Steps, process.ConflictCount));
        Assert.Equal((9L, "rng.torch.cpu"), (process.Conflicts[0].Step, Assert.Single(process.Conflicts[0].Names)));
        var kept = await Runs.GetFingerprintAsync(new GetFingerprintRequest { ExperimentId = experiment, RunId = "r", Worker = 2, Step = 9 });
        Assert.Equal(1, kept.Digests[0].Value[0]); // the first report of step 9, not the conflicting 7
    }

    [Fact]
    public async Task Processes_keep_their_first_environment_and_fingerprints_stream_in_step_then_worker_order()
    {
        var experiment = await ExperimentAsync("runs/read");
        var first = await Runs.RecordProcessAsync(new RecordProcessRequest { ExperimentId = experiment, RunId = "r1", Worker = 1, Environment = { ["host"] = "node-1", ["torch.threads"] = "4" } });
        var second = await Runs.RecordProcessAsync(new RecordProcessRequest { ExperimentId = experiment, RunId = "r1", Worker = 1, Environment = { ["host"] = "node-9" } });
        Assert.Equal(first, second);
        await RpcAssert.FailsWith(StatusCode.InvalidArgument, async () => await Runs.RecordProcessAsync(new RecordProcessRequest { ExperimentId = experiment, RunId = "r1", Worker = 3, Environment = { ["bad key!"] = "x" } }));

        // 1,500 steps of three workers: pages of the store's reads (1,024) that end inside a step.
        for (var from = 0; from < 1500; from += 500)
        {
            foreach (var worker in new uint[] { 1, 0, 2 })
            {
                await Runs.ReportFingerprintsAsync(Report(experiment, "r1", worker, [.. Enumerable.Range(from, 500).Select(s => Step(s, (byte)worker))]));
            }
        }

        // Both answers, as messages and packed, hold the same steps.
        foreach (var packed in new[] { false, true })
        {
            var streamed = new List<(long Step, uint Worker)>();
            using (var call = Runs.StreamFingerprints(new StreamFingerprintsRequest { ExperimentId = experiment, RunId = "r1", FromStep = 100, Packed = packed }))
            {
                await foreach (var chunk in call.ResponseStream.ReadAllAsync())
                {
                    var steps = packed
                        ? PackedStep.Read(chunk).Select(s => (s.Worker, s.Step, Digests: s.Unpack())).ToList()
                        : chunk.Steps.Select(s => (s.Worker, s.Step, Digests: (IReadOnlyList<Digest>)s.Digests)).ToList();
                    Assert.InRange(steps.Count, 1, 1024);
                    Assert.Equal(packed, chunk.Steps.Count == 0);
                    foreach (var step in steps)
                    {
                        streamed.Add((step.Step, step.Worker));
                        Assert.Equal(Step(step.Step, (byte)step.Worker).Digests, step.Digests);
                    }
                }
            }

            Assert.Equal(Enumerable.Range(100, 1400).SelectMany(s => new[] { ((long)s, 0u), ((long)s, 1u), ((long)s, 2u) }), streamed);
        }
        var runs = await Runs.ListRunsAsync(new ListRunsRequest { ExperimentId = experiment });
        var summary = Assert.Single(runs.Runs);
        Assert.Equal(("r1", 3L, 0L, 1499L, 4500L), (summary.RunId, summary.Processes, summary.FirstStep, summary.LastStep, summary.Fingerprints));
        var run = await Runs.GetRunAsync(new GetRunRequest { ExperimentId = experiment, RunId = "r1" });
        Assert.Equal("node-1", run.Processes.Single(p => p.Worker == 1).Environment["host"]);
        await RpcAssert.FailsWith(StatusCode.NotFound, async () => await Runs.GetRunAsync(new GetRunRequest { ExperimentId = experiment, RunId = "r2" }));
    }

    [Fact]
    public async Task Runs_diff_counts_a_digest_only_one_run_has_and_says_when_there_was_nothing_to_compare()
    {
        var experiment = await ExperimentAsync("runs/diff");
        await Runs.ReportFingerprintsAsync(Report(experiment, "a", 0, Step(0), Step(1)));
        var withLoss = Step(1);
        withLoss.Digests.Add(Digest("loss", DigestKind.Scalar, 3));
        withLoss.Digests[1].Value = Google.Protobuf.ByteString.CopyFrom(BitConverter.GetBytes(0.25));
        await Runs.ReportFingerprintsAsync(Report(experiment, "b", 0, Step(0), withLoss));
        await Runs.ReportFingerprintsAsync(Report(experiment, "later", 0, Step(5)));

        var diverged = await Seedctl.RunAsync("runs", "diff", experiment, "a", "b", "--address", daemon.Address);
        Assert.True(diverged.ExitCode == 5, diverged.Stdout + diverged.Stderr);
        Assert.Contains("DIVERGED at step 1 (computation)", diverged.Stdout, StringComparison.Ordinal);
        Assert.Contains("loss (scalar): (absent) vs 0.25", diverged.Stdout, StringComparison.Ordinal);
        Assert.Contains("while the generators fingerprinted (rng.torch.cpu) are equal", diverged.Stdout, StringComparison.Ordinal);

        // Without a generator in the steps, equal generators are not known: the diff does not call it computation.
        StepFingerprint LossOnly(double loss) => new() { Step = 0, Digests = { new Digest { Name = "loss", Kind = DigestKind.Scalar, Value = Google.Protobuf.ByteString.CopyFrom(BitConverter.GetBytes(loss)) } } };
        await Runs.ReportFingerprintsAsync(Report(experiment, "no-generators-a", 0, LossOnly(0.5)));
        await Runs.ReportFingerprintsAsync(Report(experiment, "no-generators-b", 0, LossOnly(0.75)));
        var undetermined = await Seedctl.RunAsync("runs", "diff", experiment, "no-generators-a", "no-generators-b", "--address", daemon.Address);
        Assert.True(undetermined.ExitCode == 5, undetermined.Stdout + undetermined.Stderr);
        Assert.Contains("DIVERGED at step 0 (undetermined)", undetermined.Stdout, StringComparison.Ordinal);
        Assert.Contains("no generator was fingerprinted there, so seeding cannot be told from computation", undetermined.Stdout, StringComparison.Ordinal);

        // One worker with its generators equal, another with none: computation, and the second is named as not known.
        StepFingerprint WithLoss(double loss)
        {
            var step = LossOnly(loss);
            step.Digests.Add(Digest("rng.torch.cpu", DigestKind.Generator, 7));
            return step;
        }

        await Runs.ReportFingerprintsAsync(Report(experiment, "mixed-a", 0, WithLoss(0.5)));
        await Runs.ReportFingerprintsAsync(Report(experiment, "mixed-a", 1, LossOnly(0.5)));
        await Runs.ReportFingerprintsAsync(Report(experiment, "mixed-b", 0, WithLoss(0.75)));
        await Runs.ReportFingerprintsAsync(Report(experiment, "mixed-b", 1, LossOnly(0.75)));
        var mixed = await Seedctl.RunAsync("runs", "diff", experiment, "mixed-a", "mixed-b", "--address", daemon.Address);
        Assert.Contains("DIVERGED at step 0 (computation)", mixed.Stdout, StringComparison.Ordinal);
        Assert.Contains("(worker 1 fingerprinted none there: for it, seeding is not ruled out)", mixed.Stdout, StringComparison.Ordinal);

        // Equal where both recorded, and the verdict says not everything was: a worker and steps only one run has.
        await Runs.ReportFingerprintsAsync(Report(experiment, "gaps", 0, Step(1), Step(2), Step(4), Step(5)));
        await Runs.ReportFingerprintsAsync(Report(experiment, "gaps", 1, Step(1, 1), Step(2, 1)));
        await Runs.ReportFingerprintsAsync(Report(experiment, "fewer", 0, Step(1)));
        await Runs.RecordProcessAsync(new RecordProcessRequest { ExperimentId = experiment, RunId = "fewer", Worker = 7 });
        var partial = await Seedctl.RunAsync("runs", "diff", experiment, "gaps", "fewer", "--address", daemon.Address);
        Assert.True(partial.ExitCode == 0, partial.Stdout + partial.Stderr);
        Assert.Contains("EQUAL over 1 common steps, but some steps are in one run only (see coverage)", partial.Stdout, StringComparison.Ordinal);
        Assert.Contains("5 step(s) of 2 worker(s) (worker 0 3 steps in 2..5, worker 1 steps 1..2) only in gaps", partial.Stdout, StringComparison.Ordinal);
        Assert.Contains("worker 7 recorded in fewer only, with no step compared", partial.Stdout, StringComparison.Ordinal);

        var nothing = await Seedctl.RunAsync("runs", "diff", experiment, "a", "later", "--address", daemon.Address);
        Assert.True(nothing.ExitCode == 1, nothing.Stdout + nothing.Stderr);
        Assert.Contains("NOTHING COMPARED", nothing.Stdout, StringComparison.Ordinal);
        var unknown = await Seedctl.RunAsync("runs", "diff", experiment, "a", "never", "--address", daemon.Address);
        Assert.True(unknown.ExitCode == 4, unknown.Stdout + unknown.Stderr);
        Assert.Contains("has no run 'never'", unknown.Stderr, StringComparison.Ordinal);
    }

    private async Task<string> ExperimentAsync(string prefix)
    {
        var id = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "11" });
        return id;
    }

    private static ReportFingerprintsRequest Report(string experiment, string run, uint worker, params StepFingerprint[] steps)
    {
        var request = new ReportFingerprintsRequest { ExperimentId = experiment, RunId = run, Worker = worker };
        request.Steps.AddRange(steps);
        return request;
    }

    private static StepFingerprint Step(long step, byte value = 1) => new() { Step = step, Digests = { Digest("rng.torch.cpu", DigestKind.Generator, value) } };

    private static Digest Digest(string name, DigestKind kind, byte value) => new() { Name = name, Kind = kind, Value = ByteString.CopyFrom(value, 2, 3) };
}
