using System.CommandLine;
using SeedDaemon.Ctl.Output;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl ledger verify|key|keygen|checkpoint|consistency — the ledger's hash chain and its transparency log.</summary>
public static class LedgerCommand
{
    public static Command Create()
    {
        var command = new Command("ledger", "Check the request ledger: its hash chain, its signed checkpoints, and that today's log extends an old checkpoint.");
        var id = new Argument<string>("experiment-id");
        var verify = new Command("verify", "Recompute the chain; exits 5 naming the first broken event.") { id };
        Common.Action(verify, async c =>
        {
            var result = await new AuditService.AuditServiceClient(c.Invoker).VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = c.Value(id) }, deadline: Common.Deadline(TimeSpan.FromMinutes(30)), cancellationToken: c.CancellationToken);
            c.Printer.Message(result, r => new Table("OK", "EVENTS_CHECKED", "HEAD_SEQUENCE", "HEAD_HASH", "FIRST_BROKEN", "REASON")
                .Add(r.Ok ? "yes" : "NO", r.EventsChecked, r.ChainHead.Sequence, r.ChainHead.Hash, r.Ok ? "-" : r.FirstBrokenSequence, r.Ok ? "-" : r.Reason));
            return result.Ok ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });
        command.Subcommands.Add(verify);
        command.Subcommands.Add(ProofVerbs.Key());
        command.Subcommands.Add(ProofVerbs.Keygen());
        command.Subcommands.Add(ProofVerbs.Checkpoint());
        command.Subcommands.Add(ProofVerbs.Consistency());
        return command;
    }
}
