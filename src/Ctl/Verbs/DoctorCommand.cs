using System.CommandLine;
using Grpc.Core;
using Grpc.Health.V1;
using SeedDaemon.Client.Torch;
using SeedDaemon.Ctl.Output;
using SeedDaemon.Derivation;
using SeedDaemon.V1;
using TorchSharp;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>
/// seedctl doctor — is this deployment fit to hand out reproducible seeds? Every check runs on its
/// own: one the caller's token (or its absence) may not run is reported as needing a role, not as a
/// failure, so an issuer's or an anonymous doctor still prints its whole table.
/// </summary>
public static class DoctorCommand
{
    private const string Skipped = "-";

    public static Command Create()
    {
        var experiment = new Option<string?>("--experiment") { Description = "check this experiment's ledger (default: every experiment's)" };
        var torchCheck = new Option<bool>("--torch") { Description = "also check that TorchSharp and libtorch load here (a training node; seedctl built with -p:SeedctlWithLibtorch=true)" };
        var command = new Command("doctor", "Check: the daemon is reachable and serving, it derives seedseq-v1 like this machine, ledgers verify, and (with --torch) TorchSharp loads here. Checks the token's role may not run are listed as needing that role.") { experiment, torchCheck };
        Common.Action(command, async c =>
        {
            var checks = new List<Check>();
            var health = await Try(() => new Health.HealthClient(c.Invoker).CheckAsync(new HealthCheckRequest(), deadline: Common.Deadline(TimeSpan.FromSeconds(10))).ResponseAsync);
            checks.Add(health.Value is { } answer
                ? new Check("daemon reachable", answer.Status == HealthCheckResponse.Types.ServingStatus.Serving ? "ok" : "FAIL", $"{c.Address} answers {answer.Status}")
                : Refused("daemon reachable", health.Error!));

            if (health.Value is not null)
            {
                var ids = new List<string>();
                if (c.Parse.GetValue(experiment) is { } one)
                {
                    ids.Add(one);
                }
                else
                {
                    var listed = await Try(() => Common.AllExperimentsAsync(c.Invoker, c.CancellationToken));
                    if (listed.Value is null)
                    {
                        checks.Add(Refused("experiments", listed.Error!, "any role"));
                    }
                    else
                    {
                        ids.AddRange(listed.Value.Select(e => e.ExperimentId));
                    }
                }

                checks.Add(await SchemeAsync(c, ids));
                var audit = new AuditService.AuditServiceClient(c.Invoker);
                foreach (var id in ids)
                {
                    var ledger = await Try(() => audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = id }, deadline: Common.Deadline(TimeSpan.FromMinutes(30))).ResponseAsync);
                    checks.Add(ledger.Value is { } result
                        ? new Check($"ledger {id}", result.Ok ? "ok" : "FAIL", result.Ok ? $"{result.EventsChecked} events, head {result.ChainHead.Hash[..16]}" : $"event {result.FirstBrokenSequence}: {result.Reason}")
                        : Refused($"ledger {id}", ledger.Error!, "auditor or admin"));
                }
            }

            checks.Add(TorchCheck(c.Parse.GetValue(torchCheck)));
            c.Printer.Value(
                checks.Select(x => new { check = x.Name, ok = x.Status == "ok", status = x.Status, detail = x.Detail }).ToList(),
                () =>
                {
                    var table = new Table("CHECK", "OK", "DETAIL");
                    foreach (var check in checks)
                    {
                        table.Add(check.Name, check.Status, check.Detail);
                    }

                    return table;
                });
            // A doctor that could not check for want of a token has not found the deployment healthy.
            return checks.Any(x => x.Status == "FAIL") ? ExitCodes.Failed
                : checks.Any(x => x.Detail.StartsWith("needs a token", StringComparison.Ordinal)) ? ExitCodes.Of(StatusCode.Unauthenticated)
                : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The daemon's derivation against this machine's, on the first experiment (VerifySeed: auditors and admins).</summary>
    private static async Task<Check> SchemeAsync(Common.Context c, List<string> ids)
    {
        if (ids.Count == 0)
        {
            return new Check("scheme", Skipped, "no experiment to compare with");
        }

        var sample = await Try(() => new SeedService.SeedServiceClient(c.Invoker).GetExperimentAsync(new GetExperimentRequest { ExperimentId = ids[0] }, deadline: Common.Deadline()).ResponseAsync);
        if (sample.Value is null)
        {
            return Refused("scheme", sample.Error!, "any role");
        }

        if (!Root.TryParse(sample.Value.Root, out var root))
        {
            return new Check("scheme", "FAIL", $"experiment {sample.Value.ExperimentId} has an invalid root '{sample.Value.Root}'");
        }

        var local = SeedSeqV1.Derive(root, 0, "torch", "");
        var remote = await Try(() => new AuditService.AuditServiceClient(c.Invoker).VerifySeedAsync(
            new VerifySeedRequest { ExperimentId = ids[0], Worker = 0, Library = "torch", Seed = local.Seed }, deadline: Common.Deadline()).ResponseAsync);
        if (remote.Value is null)
        {
            return Refused("scheme", remote.Error!, "auditor or admin");
        }

        var agree = sample.Value.Scheme == SeedSeqV1.Scheme && remote.Value.Match;
        return new Check("scheme", agree ? "ok" : "FAIL", $"daemon scheme {sample.Value.Scheme}; derivations {(remote.Value.Match ? "agree" : "DIFFER")} with this machine's seedseq-v1");
    }

    /// <summary>TorchSharp is checked where it is meant to run: with --torch, or when seedctl was built with libtorch.</summary>
    private static Check TorchCheck(bool asked)
    {
        var bundled = Directory.EnumerateFiles(AppContext.BaseDirectory, "libtorch.so", SearchOption.AllDirectories).Any();
        if (!asked && !bundled)
        {
            return new Check("TorchSharp loads", Skipped, "not checked here (no libtorch next to seedctl); on a training node: seedctl doctor --torch, with seedctl built -p:SeedctlWithLibtorch=true");
        }

        if (!bundled)
        {
            return new Check("TorchSharp loads", "FAIL", $"libtorch is not next to seedctl ({AppContext.BaseDirectory}): build seedctl with -p:SeedctlWithLibtorch=true on this machine");
        }

        try
        {
            TorchRuntime.EnsureLoaded();
            using var draw = torch.rand(1);
            return new Check("TorchSharp loads", "ok", $"libtorch loaded; CUDA {(TorchRuntime.CudaAvailable() ? "available" : "not available")}");
        }
        catch (TorchUnavailableException error)
        {
            return new Check("TorchSharp loads", "FAIL", error.Message);
        }
    }

    /// <summary>A check the daemon refused: for a missing role that is not a failure of the deployment.</summary>
    private static Check Refused(string name, RpcException error, string roles = "") => error.StatusCode switch
    {
        StatusCode.Unauthenticated => new Check(name, Skipped, $"needs a token ({(roles is "" or "any role" ? "any role" : "role " + roles)}): pass --token or set SEEDD_TOKEN"),
        StatusCode.PermissionDenied => new Check(name, Skipped, $"needs role {roles}: {error.Status.Detail}"),
        _ => new Check(name, "FAIL", $"{error.StatusCode}: {error.Status.Detail}"),
    };

    private static async Task<(T? Value, RpcException? Error)> Try<T>(Func<Task<T>> call)
        where T : class
    {
        try
        {
            return (await call(), null);
        }
        catch (RpcException error)
        {
            return (null, error);
        }
    }

    private sealed record Check(string Name, string Status, string Detail);
}
