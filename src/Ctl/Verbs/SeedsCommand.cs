using System.CommandLine;
using System.Globalization;
using SeedDaemon.Ctl.Output;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl seeds get|list|verify</summary>
public static class SeedsCommand
{
    public static readonly Option<string> Experiment = new("--experiment") { Description = "the experiment id", Required = true };

    public static Command Create()
    {
        var command = new Command("seeds", "Get, list and verify seeds.");
        var worker = new Option<uint>("--worker") { Description = "worker index, 0 to 4294967294", Required = true };
        var library = new Option<string>("--library") { Description = "torch, numpy, python, ... or a custom name", Required = true };
        var stream = new Option<string>("--stream") { Description = "purpose within the library (default: none)", DefaultValueFactory = _ => "" };

        var get = new Command("get", "Get (and so issue and record) the seed of one key.") { Experiment, worker, library, stream };
        Common.Action(get, async c =>
        {
            var seed = await new SeedService.SeedServiceClient(c.Invoker).GetSeedAsync(
                new GetSeedRequest { ExperimentId = c.Value(Experiment), Worker = c.Value(worker), Library = c.Value(library), Stream = c.Value(stream) },
                deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            c.Printer.Message(seed, s => Rows([s]));
            return ExitCodes.Ok;
        });

        var list = new Command("list", "List every seed issued in an experiment.") { Experiment };
        Common.Action(list, async c =>
        {
            var audit = new AuditService.AuditServiceClient(c.Invoker);
            var all = await Common.AllPagesAsync(async token =>
            {
                var page = await audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = c.Value(Experiment), PageSize = 1000, PageToken = token }, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
                return (page.Seeds.AsEnumerable(), page.NextPageToken);
            });
            c.Printer.Messages(all, Rows);
            return ExitCodes.Ok;
        });

        var claimed = new Option<ulong>("--seed") { Description = "the seed to check (library width or full 64 bits)", Required = true };
        var verify = new Command("verify", "Check a seed against seedseq-v1; exits 5 when it does not match.") { Experiment, worker, library, stream, claimed };
        Common.Action(verify, async c =>
        {
            var answer = await new AuditService.AuditServiceClient(c.Invoker).VerifySeedAsync(
                new VerifySeedRequest { ExperimentId = c.Value(Experiment), Worker = c.Value(worker), Library = c.Value(library), Stream = c.Value(stream), Seed = c.Value(claimed) },
                deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            c.Printer.Message(answer, a => new Table("MATCH", "EXPECTED_SEED", "EXPECTED_SEED64", "WIDTH", "ISSUED", "ISSUE_COUNT")
                .Add(a.Match ? "yes" : "NO", a.ExpectedSeed, a.ExpectedSeed64, a.Width, a.Issued ? "yes" : "no", a.IssueCount));
            return answer.Match ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });

        command.Subcommands.Add(get);
        command.Subcommands.Add(list);
        command.Subcommands.Add(verify);
        return command;
    }

    private static Table Rows(IReadOnlyList<IssuedSeed> seeds)
    {
        var table = new Table("WORKER", "LIBRARY", "STREAM", "SEED", "WIDTH", "ISSUES", "FIRST_ISSUED", "FIRST_REQUESTER");
        foreach (var s in seeds)
        {
            table.Add(s.Worker, s.Library, s.Stream, s.Seed, s.Width, s.IssueCount, s.FirstIssueTime?.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture), s.FirstRequester);
        }

        return table;
    }
}
