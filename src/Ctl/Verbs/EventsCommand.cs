using System.CommandLine;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using SeedDaemon.Ctl.Output;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl events list — who asked for which seed, when.</summary>
public static class EventsCommand
{
    public static Command Create()
    {
        var command = new Command("events", "Query the request ledger.");
        var keys = new KeyFilterOptions();
        var since = new Option<DateTimeOffset?>("--since") { Description = "from this time (inclusive), e.g. 2026-11-24T00:00:00Z" };
        var until = new Option<DateTimeOffset?>("--until") { Description = "until this time (exclusive)" };
        var limit = new Option<int>("--limit") { Description = "at most this many events (default 1000; 0 for all)", DefaultValueFactory = _ => 1000 };

        var list = new Command("list", "List ledger events of an experiment, filtered.") { SeedsCommand.Experiment, since, until, limit };
        foreach (var option in keys.All)
        {
            list.Options.Add(option);
        }

        Common.Action(list, async c =>
        {
            var request = new ListEventsRequest { ExperimentId = c.Value(SeedsCommand.Experiment), PageSize = 1000 };
            keys.Apply(c.Parse, v => request.WorkerMin = v, v => request.WorkerMax = v, v => request.Library = v, v => request.Stream = v);
            if (c.Parse.GetValue(since) is { } start)
            {
                request.StartTime = Timestamp.FromDateTimeOffset(start);
            }

            if (c.Parse.GetValue(until) is { } end)
            {
                request.EndTime = Timestamp.FromDateTimeOffset(end);
            }

            if (c.Value(limit) < 0)
            {
                throw new CtlException(ExitCodes.Usage, $"--limit is a number of events, 0 for all; it is {c.Value(limit)}.");
            }

            var most = c.Value(limit) == 0 ? int.MaxValue : c.Value(limit);
            var audit = new AuditService.AuditServiceClient(c.Invoker);
            var events = new List<LedgerEvent>();
            do
            {
                var page = await audit.ListEventsAsync(request, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
                events.AddRange(page.Events.Take(most - events.Count));
                request.PageToken = page.NextPageToken;
            }
            while (request.PageToken != "" && events.Count < most);

            c.Printer.Messages(events, Rows);
            return ExitCodes.Ok;
        });

        command.Subcommands.Add(list);
        return command;
    }

    private static Table Rows(IReadOnlyList<LedgerEvent> events)
    {
        var table = new Table("SEQ", "TIME", "WORKER", "LIBRARY", "STREAM", "SEED", "PRINCIPAL", "PEER", "HOST", "PID", "HASH");
        foreach (var e in events)
        {
            table.Add(e.Sequence, e.Time?.ToDateTime().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture), e.Worker, e.Library, e.Stream, e.Seed,
                e.Principal.Length == 0 ? "-" : e.Principal, e.Peer, e.ClientHost.Length == 0 ? "-" : e.ClientHost, e.ClientPid, e.Hash[..12]);
        }

        return table;
    }
}
