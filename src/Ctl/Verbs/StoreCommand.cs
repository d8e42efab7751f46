using System.CommandLine;
using Grpc.Core;
using SeedDaemon.Ctl.Output;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl store check — the daemon reads every record of its store while it serves and reports what is not as written.</summary>
public static class StoreCommand
{
    public static Command Create()
    {
        var experiment = new Option<string?>("--experiment", "-e") { Description = "check only this experiment (the embedded store's document pass is left out)" };
        var duty = new Option<int>("--duty") { Description = "share of the time the check may spend reading, 1-100 percent (default: the daemon's Seedd:Scrub:DutyPercent, 10)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress on stderr" };
        var check = new Command("check", "Have the daemon check its store while it serves: every document (embedded store), every ledger event (hashes, chain head, seeds re-derived), every issued seed against its events, every run's fingerprints. Exit 0: no findings; 5: findings, each with where it is.") { experiment, duty, quiet };
        Common.Action(check, async c =>
        {
            var findings = new List<StoreCheckFinding>();
            StoreCheckSummary? summary = null;
            using var call = new AdminService.AdminServiceClient(c.Invoker).CheckStore(
                new CheckStoreRequest { ExperimentId = c.Parse.GetValue(experiment) ?? "", DutyPercent = c.Value(duty) },
                cancellationToken: c.CancellationToken);
            await foreach (var update in call.ResponseStream.ReadAllAsync(c.CancellationToken))
            {
                switch (update.UpdateCase)
                {
                    case CheckStoreUpdate.UpdateOneofCase.Progress when !c.Value(quiet):
                        var p = update.Progress;
                        Console.Error.WriteLine($"store check: {Total(p.Read):N0} records read ({p.Read.Documents:N0} documents, {p.Read.Events:N0} events, {p.Read.Seeds:N0} seeds, {p.Read.Fingerprints:N0} fingerprints); experiment {p.ExperimentsDone}/{p.ExperimentsTotal}{(p.ExperimentId.Length > 0 ? $" '{p.ExperimentId}'" : "")}");
                        break;
                    case CheckStoreUpdate.UpdateOneofCase.Finding:
                        findings.Add(update.Finding);
                        break;
                    case CheckStoreUpdate.UpdateOneofCase.Summary:
                        summary = update.Summary;
                        break;
                }
            }

            if (summary is null)
            {
                throw new CtlException(ExitCodes.Failed, "the daemon ended the store check without its summary; run it again.");
            }

            if (!c.Printer.Json && findings.Count > 0)
            {
                var table = new Table("EXPERIMENT", "WHERE", "PROBLEM");
                foreach (var f in findings)
                {
                    table.Add(f.ExperimentId, f.Where, f.Problem);
                }

                c.Printer.Writer.WriteLine(table);
            }

            c.Printer.Value(
                new
                {
                    ok = summary.Ok,
                    findings = findings.Select(f => new { experiment_id = f.ExperimentId, where = f.Where, problem = f.Problem }),
                    read = new { documents = summary.Read.Documents, experiments = summary.Read.Experiments, events = summary.Read.Events, seeds = summary.Read.Seeds, fingerprints = summary.Read.Fingerprints },
                    elapsed_seconds = summary.Elapsed.ToTimeSpan().TotalSeconds,
                },
                () =>
                {
                    var read = summary.Read;
                    return new Table("RESULT", "DOCUMENTS", "EXPERIMENTS", "EVENTS", "SEEDS", "FINGERPRINTS", "TOOK")
                        .Add(summary.Ok ? "OK: no findings" : $"FINDINGS: {summary.Findings}", read.Documents, read.Experiments, read.Events, read.Seeds, read.Fingerprints, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{summary.Elapsed.ToTimeSpan().TotalSeconds:F1} s"));
                });
            return summary.Ok ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });
        return new Command("store", "Operate the daemon's store.") { check };
    }

    private static long Total(StoreCheckCounts read) => read.Documents + read.Events + read.Seeds + read.Fingerprints;
}
