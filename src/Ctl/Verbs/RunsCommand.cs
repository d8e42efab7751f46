using System.CommandLine;
using System.Globalization;
using Grpc.Core;
using SeedDaemon.Ctl.Output;
using SeedDaemon.Client;
using SeedDaemon.Ctl.Runs;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl runs list | show | diff — did a rerun reproduce, and where did it first go apart?</summary>
public static class RunsCommand
{
    public static Command Create()
    {
        var command = new Command("runs", "Runs of an experiment: list, show, and diff two runs step by step.");
        var experiment = new Argument<string>("experiment-id");
        var run = new Argument<string>("run-id");

        var list = new Command("list", "The runs of an experiment: processes, steps covered, conflicts.") { experiment };
        Common.Action(list, async c =>
        {
            var answer = await Client(c).ListRunsAsync(new ListRunsRequest { ExperimentId = c.Value(experiment) }, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            c.Printer.Messages(answer.Runs, runs =>
            {
                var table = new Table("RUN", "PROCESSES", "STEPS", "FINGERPRINTS", "CONFLICTS", "STARTED", "RESUMED_FROM");
                foreach (var r in runs)
                {
                    table.Add(r.RunId, r.Processes, Steps(r.FirstStep, r.LastStep), r.Fingerprints, r.Conflicts, Time(r.StartTime), Resumed(r.ResumedFrom));
                }

                return table;
            });
            return ExitCodes.Ok;
        });

        var show = new Command("show", "A run's processes: steps covered, conflicts, and the environment each recorded.") { experiment, run };
        Common.Action(show, async c =>
        {
            var answer = await Client(c).GetRunAsync(new GetRunRequest { ExperimentId = c.Value(experiment), RunId = c.Value(run) }, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            c.Printer.Message(answer, r =>
            {
                var table = new Table("WORKER", "STEPS", "RECORDED", "CONFLICTS", "HOST", "PYTHON", "TORCH", "THREADS", "DETERMINISTIC", "RESUMED_FROM");
                foreach (var p in r.Processes)
                {
                    table.Add(p.Worker, Steps(p.FirstStep, p.LastStep), p.Steps, p.ConflictCount, Env(p, "host"), Env(p, "python"), Env(p, "torch"), Env(p, "torch.threads"),
                        Env(p, "torch.deterministic_algorithms"), Resumed(p.ResumedFrom));
                }

                return table;
            });
            return ExitCodes.Ok;
        });

        var runB = new Argument<string>("run-id-b") { Description = "the run to compare with the first" };
        var experimentB = new Option<string?>("--experiment-b") { Description = "the second run's experiment, when it is another one" };
        var fromStep = new Option<long?>("--from-step") { Description = "compare from this step on (default: where the second run resumed the first, else 0)" };
        var html = new Option<FileInfo?>("--html") { Description = "also write a self-contained HTML report to FILE (processes × steps grid, first divergence, environment)" };
        var diff = new Command("diff", "Compare two runs step by step; exits 0 when equal over the common steps, 5 when they diverged, 1 when they have no step in common, 4 for an unknown run.")
        {
            experiment, run, runB, experimentB, fromStep, html,
        };
        Common.Action(diff, async c =>
        {
            var client = Client(c);
            var a = await SideAsync(client, c, c.Value(experiment), c.Value(run));
            var b = await SideAsync(client, c, c.Parse.GetValue(experimentB) ?? c.Value(experiment), c.Value(runB));
            var start = c.Parse.GetValue(fromStep) ?? DefaultFromStep(a, b);
            if (start < 0)
            {
                throw new CtlException(ExitCodes.Usage, $"--from-step must be 0 or more, got {start}.");
            }

            var output = c.Parse.GetValue(html);
            var result = new RunDiff(a.Side, b.Side, start, output is null ? null : new DiffGrid());
            await result.RunAsync(Stream(client, c, a.Side, start), Stream(client, c, b.Side, start), c.CancellationToken);
            if (output is not null)
            {
                await OutputFile.WriteAsync(output, HtmlReport.Render(result, result.Grid!));
            }

            c.Printer.Value(DiffJson.Of(result, a.Conflicts.Concat(b.Conflicts).ToList()), () => DiffText.Table(result, a.Conflicts.Concat(b.Conflicts).ToList(), output));
            return result.NothingCompared ? ExitCodes.Failed : result.Equal ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });

        command.Subcommands.Add(list);
        command.Subcommands.Add(show);
        command.Subcommands.Add(diff);
        return command;
    }

    private static RunService.RunServiceClient Client(Common.Context c) => new(c.Invoker);

    private static async Task<(RunSide Side, Run Run, List<ConflictLine> Conflicts)> SideAsync(RunService.RunServiceClient client, Common.Context c, string experimentId, string runId)
    {
        var answer = await client.GetRunAsync(new GetRunRequest { ExperimentId = experimentId, RunId = runId }, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
        var conflicts = answer.Processes.SelectMany(p => p.Conflicts.Select(x => new ConflictLine(runId, p.Worker, x.Step, x.Names.ToList()))).ToList();
        return (new RunSide(experimentId, runId, answer.Processes.ToDictionary(p => p.Worker)), answer, conflicts);
    }

    /// <summary>A run that resumed the other compares from the step after its checkpoint: both ran the steps before it from the same state.</summary>
    private static long DefaultFromStep((RunSide Side, Run Run, List<ConflictLine> _) a, (RunSide Side, Run Run, List<ConflictLine> _) b) =>
        b.Run.Summary.ResumedFrom is { } rb && rb.RunId == a.Side.RunId ? rb.Step + 1
        : a.Run.Summary.ResumedFrom is { } ra && ra.RunId == b.Side.RunId ? ra.Step + 1
        : 0;

    private static async IAsyncEnumerable<PackedStep> Stream(RunService.RunServiceClient client, Common.Context c, RunSide side, long fromStep)
    {
        using var call = client.StreamFingerprints(new StreamFingerprintsRequest { ExperimentId = side.ExperimentId, RunId = side.RunId, FromStep = fromStep , Packed = true }, cancellationToken: c.CancellationToken);
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(c.CancellationToken))
        {
            foreach (var step in PackedStep.Read(chunk))
            {
                yield return step;
            }
        }
    }

    private static string Steps(long first, long last) => first < 0 ? "-" : first == last ? first.ToString(CultureInfo.InvariantCulture) : $"{first}..{last}";

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? time) =>
        time is null ? "-" : time.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Resumed(ResumePoint? point) => point is null ? "-" : $"{point.RunId}@{point.Step}";

    private static string Env(RunProcess process, string key) => process.Environment.TryGetValue(key, out var value) ? value : "-";
}

/// <summary>A step reported twice with different digests (the first was kept).</summary>
public sealed record ConflictLine(string RunId, uint Worker, long Step, IReadOnlyList<string> Names);
