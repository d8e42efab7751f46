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
        var command = new Command("seeds", "Get (issuing), show, list and verify seeds.");
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

        var keys = new KeyFilterOptions();
        var list = new Command("list", "List the seeds issued in an experiment, filtered; reads only, issues nothing.") { Experiment };
        foreach (var option in keys.All)
        {
            list.Options.Add(option);
        }

        Common.Action(list, async c =>
        {
            var filter = new ListIssuedSeedsRequest { ExperimentId = c.Value(Experiment) };
            keys.Apply(c.Parse, v => filter.WorkerMin = v, v => filter.WorkerMax = v, v => filter.Library = v, v => filter.Stream = v);
            c.Printer.Messages(await IssuedAsync(c, filter), Rows);
            return ExitCodes.Ok;
        });

        var show = new Command("show", "Show one key's issued seed: who asked first, when, how often. Reads only; a key never issued is exit 4.") { Experiment, worker, library, stream };
        Common.Action(show, async c =>
        {
            var filter = new ListIssuedSeedsRequest
            {
                ExperimentId = c.Value(Experiment), WorkerMin = c.Value(worker), WorkerMax = c.Value(worker), Library = c.Value(library), Stream = c.Value(stream),
            };
            var found = await IssuedAsync(c, filter);
            if (found.Count == 0)
            {
                throw new CtlException(ExitCodes.NotFound, $"key (worker {filter.WorkerMin}, library '{filter.Library}', stream '{filter.Stream}') of experiment '{filter.ExperimentId}' was never issued. 'seedctl seeds get' would issue it.");
            }

            c.Printer.Message(found[0], s => Rows([s]));
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
        command.Subcommands.Add(show);
        command.Subcommands.Add(verify);
        command.Subcommands.Add(ProofVerbs.Prove(Experiment, worker, library, stream));
        return command;
    }

    private static Task<List<IssuedSeed>> IssuedAsync(Common.Context c, ListIssuedSeedsRequest filter)
    {
        var audit = new AuditService.AuditServiceClient(c.Invoker);
        return Common.AllPagesAsync(async token =>
        {
            var request = filter.Clone();
            request.PageSize = 1000;
            request.PageToken = token;
            var page = await audit.ListIssuedSeedsAsync(request, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            return (page.Seeds.AsEnumerable(), page.NextPageToken);
        });
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
