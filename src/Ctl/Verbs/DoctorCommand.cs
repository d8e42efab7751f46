using System.CommandLine;
using Grpc.Core;
using Grpc.Health.V1;
using SeedDaemon.Client.Torch;
using SeedDaemon.Ctl.Output;
using SeedDaemon.Derivation;
using SeedDaemon.V1;
using TorchSharp;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl doctor — is this deployment fit to hand out reproducible seeds?</summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var experiment = new Option<string?>("--experiment") { Description = "check this experiment's ledger (default: every experiment's)" };
        var command = new Command("doctor", "Check: the daemon is reachable and serving, it derives seedseq-v1 like this machine, ledgers verify, TorchSharp loads here.") { experiment };
        Common.Action(command, async c =>
        {
            var checks = new List<(string Check, bool Ok, string Detail)>();
            var health = await Try(() => new Health.HealthClient(c.Invoker).CheckAsync(new HealthCheckRequest(), deadline: Common.Deadline(TimeSpan.FromSeconds(10))).ResponseAsync);
            checks.Add(("daemon reachable", health.Value?.Status == HealthCheckResponse.Types.ServingStatus.Serving,
                health.Error ?? $"{c.Address} answers {health.Value!.Status}"));

            if (health.Value is not null)
            {
                var seeds = new SeedService.SeedServiceClient(c.Invoker);
                var ids = new List<string>();
                if (c.Parse.GetValue(experiment) is { } one)
                {
                    ids.Add(one);
                }
                else
                {
                    ids.AddRange((await Common.AllExperimentsAsync(c.Invoker, c.CancellationToken)).Select(e => e.ExperimentId));
                }

                if (ids.Count == 0)
                {
                    checks.Add(("scheme", true, "no experiments yet; nothing to compare"));
                }
                else
                {
                    var sample = await seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = ids[0] }, deadline: Common.Deadline());
                    if (!Root.TryParse(sample.Root, out var root))
                    {
                        throw new CtlException(ExitCodes.Failed, $"experiment {sample.ExperimentId} has an invalid root '{sample.Root}'");
                    }

                    var local = SeedSeqV1.Derive(root, 0, "torch", "");
                    var remote = await new AuditService.AuditServiceClient(c.Invoker).VerifySeedAsync(
                        new VerifySeedRequest { ExperimentId = ids[0], Worker = 0, Library = "torch", Seed = local.Seed }, deadline: Common.Deadline());
                    checks.Add(("scheme", sample.Scheme == SeedSeqV1.Scheme && remote.Match,
                        $"daemon scheme {sample.Scheme}; derivations {(remote.Match ? "agree" : "DIFFER")} with this machine's seedseq-v1"));
                }

                var audit = new AuditService.AuditServiceClient(c.Invoker);
                foreach (var id in ids)
                {
                    var ledger = await Try(() => audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = id }, deadline: Common.Deadline(TimeSpan.FromMinutes(30))).ResponseAsync);
                    checks.Add(($"ledger {id}", ledger.Value?.Ok == true,
                        ledger.Error ?? (ledger.Value!.Ok ? $"{ledger.Value.EventsChecked} events, head {ledger.Value.ChainHead.Hash[..16]}" : $"event {ledger.Value.FirstBrokenSequence}: {ledger.Value.Reason}")));
                }
            }

            checks.Add(TorchCheck());
            c.Printer.Value(
                checks.Select(x => new { check = x.Check, ok = x.Ok, detail = x.Detail }).ToList(),
                () =>
                {
                    var table = new Table("CHECK", "OK", "DETAIL");
                    foreach (var (check, ok, detail) in checks)
                    {
                        table.Add(check, ok ? "ok" : "FAIL", detail);
                    }

                    return table;
                });
            return checks.All(x => x.Ok) ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static (string, bool, string) TorchCheck()
    {
        try
        {
            TorchRuntime.EnsureLoaded();
            using var draw = torch.rand(1);
            return ("TorchSharp loads", true, $"libtorch loaded; CUDA {(TorchRuntime.CudaAvailable() ? "available" : "not available")}");
        }
        catch (TorchUnavailableException error)
        {
            return ("TorchSharp loads", false, error.Message);
        }
    }

    private static async Task<(T? Value, string? Error)> Try<T>(Func<Task<T>> call)
        where T : class
    {
        try
        {
            return (await call(), null);
        }
        catch (RpcException error)
        {
            return (null, $"{error.StatusCode}: {error.Status.Detail}");
        }
    }
}
