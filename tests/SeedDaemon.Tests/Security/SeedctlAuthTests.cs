using SeedDaemon.V1;
using Ctl = SeedDaemon.Testing.Seedctl;

namespace SeedDaemon.Tests.Security;

/// <summary>seedctl against a daemon with tokens: doctor prints its whole table for every role, and the exit codes tell no token from a missing role.</summary>
public sealed class SeedctlAuthTests(TokenDaemon daemon) : IClassFixture<TokenDaemon>
{
    private const int Unauthenticated = 10;
    private const int PermissionDenied = 9;

    [Fact]
    public async Task Doctor_runs_every_check_the_role_may_and_marks_the_rest_needs_role()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ctlauth/doctor", Root = "5" }, new Grpc.Core.Metadata { { "authorization", "Bearer " + TokenDaemon.AdminToken } });

        // Anonymous: health is open, so the daemon is reachable; everything else needs a token, and a
        // doctor that could not check says so in its exit code (10, unauthenticated), not 0.
        var anonymous = await Ctl.Expect(10, daemon.Address, "doctor");
        Assert.Matches(@"daemon reachable\s+ok", anonymous);
        Assert.Matches(@"experiments\s+-\s+needs a token \(any role\): pass --token or set SEEDD_TOKEN", anonymous);

        // Issuer (a fleet's role): lists experiments, cannot audit.
        var issuer = await Ctl.Expect(0, daemon.Address, "doctor", "--token", TokenDaemon.IssuerToken);
        Assert.Matches(@"daemon reachable\s+ok", issuer);
        Assert.Matches(@"scheme\s+-\s+needs role auditor or admin", issuer);
        Assert.Matches(@"ledger ctlauth/doctor\s+-\s+needs role auditor or admin", issuer);
        Assert.Contains("TorchSharp loads", issuer, StringComparison.Ordinal);

        // Auditor: every check runs and passes; the token comes from the environment as well as --token.
        var auditor = await Ctl.RunAsync(["doctor", "--address", daemon.Address], new Dictionary<string, string> { ["SEEDD_TOKEN"] = TokenDaemon.AuditorToken });
        Assert.True(auditor.ExitCode == 0, auditor.Stdout + auditor.Stderr);
        Assert.Matches(@"scheme\s+ok", auditor.Stdout);
        Assert.Matches(@"ledger ctlauth/doctor\s+ok", auditor.Stdout);
        Assert.DoesNotContain("needs", auditor.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_or_a_wrong_token_exits_10_and_a_missing_role_exits_9()
    {
        Assert.Contains("UNAUTHENTICATED", (await Ctl.Expect(Unauthenticated, daemon.Address, "experiments", "list")).ToUpperInvariant(), StringComparison.Ordinal);
        await Ctl.Expect(Unauthenticated, daemon.Address, "experiments", "list", "--token", "not-a-token");
        var denied = await Ctl.Expect(PermissionDenied, daemon.Address, "events", "list", "--experiment", "ctlauth/none", "--token", TokenDaemon.IssuerToken);
        Assert.Contains("needs auditor or admin", denied, StringComparison.Ordinal);
    }
}
