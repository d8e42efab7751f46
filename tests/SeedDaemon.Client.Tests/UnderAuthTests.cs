using Grpc.Core;

namespace SeedDaemon.Client.Tests;

/// <summary>
/// The samples as a fleet runs them under auth: the token from SEEDD_TOKEN, the issuer role (which
/// may not create experiments), an experiment an admin created beforehand.
/// </summary>
public sealed class UnderAuthTests(TokenDaemon daemon) : IClassFixture<TokenDaemon>
{
    private static readonly Dictionary<string, string> Issuer = new() { ["SEEDD_TOKEN"] = TokenDaemon.IssuerToken };

    [Fact]
    public async Task TorchWorker_and_the_Python_sample_run_with_an_issuer_token_from_the_environment()
    {
        await daemon.Seeds.CreateExperimentAsync(new V1.CreateExperimentRequest { ExperimentId = "auth/fleet", Root = "4242" }, new Metadata { { "authorization", "Bearer " + TokenDaemon.AdminToken } });

        var dotnet = await TorchWorkerProcess.RunAsync(Issuer, daemon.Address, "auth/fleet", 3);
        Assert.True(dotnet.ExitCode == 0, dotnet.Stdout + dotnet.Stderr);
        Assert.Equal("4242", dotnet.Line("root"));

        var python = await PythonClientPackage.RunAsync(["-m", "seedd_client.sample", "--address", daemon.Address, "--experiment", "auth/fleet", "--worker", "3"], Issuer);
        Assert.True(python.ExitCode == 0, python.Stdout + python.Stderr);
        var output = new TorchWorkerProcess.Output(python.ExitCode, python.Stdout, python.Stderr);
        Assert.Equal(dotnet.Draws("torch.rand(8)", "torch.randn(8)"), output.Draws("torch.rand(8)", "torch.randn(8)"));

        // The ledger names the token's principal, not an anonymous peer.
        var events = await daemon.Audit.ListEventsAsync(new V1.ListEventsRequest { ExperimentId = "auth/fleet" }, new Metadata { { "authorization", "Bearer " + TokenDaemon.AuditorToken } });
        Assert.NotEmpty(events.Events);
        Assert.All(events.Events, e => Assert.Equal("trainer", e.Principal));
    }

    [Fact]
    public async Task Without_a_token_or_with_a_role_that_may_not_create_the_samples_say_so()
    {
        var anonymous = await TorchWorkerProcess.RunAsync(daemon.Address, "auth/fleet-none", 1);
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.Contains("Unauthenticated", anonymous.Stdout + anonymous.Stderr, StringComparison.OrdinalIgnoreCase);

        var python = await PythonClientPackage.RunAsync(["-m", "seedd_client.sample", "--address", daemon.Address, "--experiment", "auth/fleet-none", "--worker", "1"]);
        Assert.NotEqual(0, python.ExitCode);
        Assert.Contains("UNAUTHENTICATED", python.Stderr, StringComparison.Ordinal);

        // --root asks to create: the issuer role may not, and the message says which role may.
        var create = await PythonClientPackage.RunAsync(["-m", "seedd_client.sample", "--address", daemon.Address, "--experiment", "auth/fleet-new", "--worker", "1", "--root", "5"], Issuer);
        Assert.NotEqual(0, create.ExitCode);
        Assert.Contains("PERMISSION_DENIED", create.Stderr, StringComparison.Ordinal);
        Assert.Contains("admin", create.Stderr, StringComparison.Ordinal);
    }
}
