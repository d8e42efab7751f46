using System.Security.Cryptography;
using System.Text;
using Grpc.Core;
using Grpc.Health.V1;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Security;

/// <summary>Bearer tokens and roles: issuer, auditor, admin; health stays open.</summary>
public sealed class AuthTests(TokenDaemon daemon) : IClassFixture<TokenDaemon>
{
    private static Metadata Bearer(string token) => new() { { "authorization", "Bearer " + token } };

    [Fact]
    public async Task Missing_or_wrong_tokens_are_UNAUTHENTICATED()
    {
        await RpcAssert.FailsWith(StatusCode.Unauthenticated, async () =>
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "auth/x", Worker = 1, Library = "torch" }));
        await RpcAssert.FailsWith(StatusCode.Unauthenticated, async () =>
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "auth/x", Worker = 1, Library = "torch" }, Bearer("not-a-token")));
        await RpcAssert.FailsWith(StatusCode.Unauthenticated, async () =>
            await daemon.Seeds.ListExperimentsAsync(new ListExperimentsRequest(), new Metadata { { "authorization", "Basic " + TokenDaemon.AdminToken } }));

        var health = await new Health.HealthClient(daemon.Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [Fact]
    public async Task Each_role_calls_what_it_may_and_is_refused_the_rest()
    {
        var admin = Bearer(TokenDaemon.AdminToken);
        var issuer = Bearer(TokenDaemon.IssuerToken);
        var auditor = Bearer(TokenDaemon.AuditorToken);
        var seedRequest = new GetSeedRequest { ExperimentId = "auth/roles", Worker = 3, Library = "torch" };

        await RpcAssert.FailsWith(StatusCode.PermissionDenied, async () => await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "auth/roles", Root = "1" }, issuer));
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "auth/roles", Root = "1" }, admin);

        // issuer: seeds and reading experiments; no audit, no admin.
        await daemon.Seeds.GetSeedAsync(seedRequest, issuer);
        await daemon.Seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "auth/roles" }, issuer);
        var denied = await RpcAssert.FailsWith(StatusCode.PermissionDenied, async () => await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = "auth/roles" }, issuer));
        Assert.Contains("trainer", denied.Status.Detail, StringComparison.Ordinal);
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, async () => await daemon.Seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = "auth/roles" }, issuer));

        // auditor: every read, no seeds, no admin.
        var events = await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = "auth/roles" }, auditor);
        await daemon.Seeds.ListExperimentsAsync(new ListExperimentsRequest(), auditor);
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, async () => await daemon.Seeds.GetSeedAsync(seedRequest, auditor));
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, async () => await new AdminService.AdminServiceClient(daemon.Channel).CreateBackupAsync(new CreateBackupRequest { Path = "/tmp/x.db" }, auditor));

        // The principal, not just the peer, is in the ledger.
        var only = Assert.Single(events.Events);
        Assert.Equal("trainer", only.Principal);
        var seed = await daemon.Seeds.GetSeedAsync(seedRequest, admin);
        Assert.Equal("trainer", seed.FirstRequester);
    }

    [Fact]
    public async Task REST_has_the_same_auth()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "auth/rest", Root = "3" }, Bearer(TokenDaemon.AdminToken));
        using var http = new HttpClient { BaseAddress = new Uri(daemon.Addresses[1]) };
        const string Path = "/v1/seed?experiment_id=auth/rest&worker=1&library=torch";
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await http.GetAsync(Path)).StatusCode);

        using var auditor = new HttpRequestMessage(HttpMethod.Get, Path) { Headers = { { "authorization", "Bearer " + TokenDaemon.AuditorToken } } };
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await http.SendAsync(auditor)).StatusCode);

        using var issuer = new HttpRequestMessage(HttpMethod.Get, Path) { Headers = { { "authorization", "Bearer " + TokenDaemon.IssuerToken } } };
        var answer = await http.SendAsync(issuer);
        Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("\"firstRequester\":\"trainer\"", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_request_records_nothing()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "auth/nothing", Root = "2" }, Bearer(TokenDaemon.AdminToken));
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, async () =>
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "auth/nothing", Worker = 1, Library = "torch" }, Bearer(TokenDaemon.AuditorToken)));
        var listed = await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = "auth/nothing" }, Bearer(TokenDaemon.AuditorToken));
        Assert.Empty(listed.Events);
    }
}
