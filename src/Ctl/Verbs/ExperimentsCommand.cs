using System.CommandLine;
using SeedDaemon.Ctl.Output;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl experiments list|show|create|freeze</summary>
public static class ExperimentsCommand
{
    public static Command Create()
    {
        var command = new Command("experiments", "List, show, create and freeze experiments.");

        var list = new Command("list", "List every experiment.");
        Common.Action(list, async c =>
        {
            c.Printer.Messages(await Common.AllExperimentsAsync(c.Invoker, c.CancellationToken), Rows);
            return ExitCodes.Ok;
        });

        var id = new Argument<string>("experiment-id") { Description = "e.g. team/project/run-17" };
        var show = new Command("show", "Show one experiment.") { id };
        Common.Action(show, async c =>
        {
            var experiment = await new SeedService.SeedServiceClient(c.Invoker).GetExperimentAsync(new GetExperimentRequest { ExperimentId = c.Value(id) }, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            c.Printer.Message(experiment, e => Rows([e]));
            return ExitCodes.Ok;
        });

        var root = new Option<string>("--root") { Description = "decimal root below 2^128; omit to have the daemon draw 128 random bits" };
        var labels = new Option<string[]>("--label") { Description = "KEY=VALUE, repeatable", AllowMultipleArgumentsPerToken = false };
        var create = new Command("create", "Create an experiment (idempotent for the same root).") { id, root, labels };
        Common.Action(create, async c =>
        {
            var request = new CreateExperimentRequest { ExperimentId = c.Value(id), Root = c.Parse.GetValue(root) ?? "" };
            foreach (var label in c.Parse.GetValue(labels) ?? [])
            {
                var eq = label.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new CtlException(ExitCodes.Usage, $"--label '{label}' is not KEY=VALUE");
                }

                request.Labels[label[..eq]] = label[(eq + 1)..];
            }

            var experiment = await new SeedService.SeedServiceClient(c.Invoker).CreateExperimentAsync(request, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            c.Printer.Message(experiment, e => Rows([e]));
            return ExitCodes.Ok;
        });

        var freeze = new Command("freeze", "Freeze an experiment: issued keys still answer, new keys are refused.") { id };
        Common.Action(freeze, async c =>
        {
            var experiment = await new SeedService.SeedServiceClient(c.Invoker).FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = c.Value(id) }, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            c.Printer.Message(experiment, e => Rows([e]));
            return ExitCodes.Ok;
        });

        command.Subcommands.Add(list);
        command.Subcommands.Add(show);
        command.Subcommands.Add(create);
        command.Subcommands.Add(freeze);
        return command;
    }

    private static Table Rows(IReadOnlyList<Experiment> experiments)
    {
        var table = new Table("EXPERIMENT", "ROOT", "SCHEME", "FROZEN", "CREATED", "LABELS");
        foreach (var e in experiments)
        {
            table.Add(e.ExperimentId, e.Root + (e.RootGenerated ? " (generated)" : ""), e.Scheme, e.Frozen ? "yes" : "no", e.CreateTime?.ToDateTime().ToString("u", System.Globalization.CultureInfo.InvariantCulture), string.Join(",", e.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));
        }

        return table;
    }
}
