using System.Net;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Grpc.Health.V1;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Security;

/// <summary>
/// Every method of the contract × {anonymous, wrong token, issuer, auditor, admin}. The methods come
/// from the contract's own descriptors, so a new method fails this test until its row is written
/// below; the rows are the README's access table, written out here rather than read from the code.
/// </summary>
public sealed class RoleMatrixTests(TokenDaemon daemon) : IClassFixture<TokenDaemon>
{
    private static readonly string[] Anyone = ["issuer", "auditor", "admin"];
    private static readonly string[] Issuers = ["issuer", "admin"];
    private static readonly string[] Auditors = ["auditor", "admin"];
    private static readonly string[] Admins = ["admin"];

    private static readonly Dictionary<string, string[]> Access = new(StringComparer.Ordinal)
    {
        ["seeddaemon.v1.SeedService/CreateExperiment"] = Admins,
        ["seeddaemon.v1.SeedService/GetExperiment"] = Anyone,
        ["seeddaemon.v1.SeedService/ListExperiments"] = Anyone,
        ["seeddaemon.v1.SeedService/FreezeExperiment"] = Admins,
        ["seeddaemon.v1.SeedService/GetSeed"] = Issuers,
        ["seeddaemon.v1.SeedService/BatchGetSeeds"] = Issuers,
        ["seeddaemon.v1.AuditService/ListIssuedSeeds"] = Auditors,
        ["seeddaemon.v1.AuditService/ListEvents"] = Auditors,
        ["seeddaemon.v1.AuditService/VerifySeed"] = Auditors,
        ["seeddaemon.v1.AuditService/ExportManifest"] = Auditors,
        ["seeddaemon.v1.AuditService/VerifyLedger"] = Auditors,
        ["seeddaemon.v1.AuditService/GetLedgerKey"] = Anyone,
        ["seeddaemon.v1.AuditService/GetCheckpoint"] = Anyone,
        ["seeddaemon.v1.AuditService/ProveInclusion"] = Auditors,
        ["seeddaemon.v1.AuditService/ProveConsistency"] = Auditors,
        ["seeddaemon.v1.AdminService/CreateBackup"] = Admins,
        ["seeddaemon.v1.AdminService/CheckStore"] = Admins,
        ["seeddaemon.v1.RunService/RecordProcess"] = Issuers,
        ["seeddaemon.v1.RunService/ReportFingerprints"] = Issuers,
        ["seeddaemon.v1.RunService/GetFingerprint"] = Anyone,
        ["seeddaemon.v1.RunService/ListRuns"] = Auditors,
        ["seeddaemon.v1.RunService/GetRun"] = Auditors,
        ["seeddaemon.v1.RunService/StreamFingerprints"] = Auditors,
    };

    private static readonly Dictionary<string, string?> Callers = new(StringComparer.Ordinal)
    {
        ["anonymous"] = null,
        ["wrong token"] = "not-a-token-of-this-daemon",
        ["issuer"] = TokenDaemon.IssuerToken,
        ["auditor"] = TokenDaemon.AuditorToken,
        ["admin"] = TokenDaemon.AdminToken,
    };

    private static readonly Marshaller<byte[]> Bytes = Marshallers.Create(b => b, b => b);

    private static IEnumerable<MethodDescriptor> ContractMethods =>
        new[] { SeedServiceReflection.Descriptor, AuditServiceReflection.Descriptor, AdminServiceReflection.Descriptor, RunServiceReflection.Descriptor }
            .SelectMany(file => file.Services)
            .SelectMany(service => service.Methods);

    [Fact]
    public void The_table_has_one_row_for_every_method_of_the_contract()
    {
        var methods = ContractMethods.Select(m => $"{m.Service.FullName}/{m.Name}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(methods, Access.Keys.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task Every_method_answers_each_caller_as_the_access_table_says()
    {
        var invoker = daemon.Channel.CreateCallInvoker();
        var wrong = new List<string>();
        foreach (var method in ContractMethods)
        {
            var name = $"{method.Service.FullName}/{method.Name}";
            foreach (var (caller, token) in Callers)
            {
                // An empty request: authorization comes first, and an allowed call with no fields is
                // refused as INVALID_ARGUMENT (or answered, for the listings) without changing anything.
                var status = await CallAsync(invoker, method, token);
                var expected = token is null || caller == "wrong token" ? "Unauthenticated"
                    : Access.GetValueOrDefault(name, []).Contains(caller) ? "allowed"
                    : "PermissionDenied";
                var actual = status is StatusCode.Unauthenticated or StatusCode.PermissionDenied ? status.ToString() : "allowed";
                if (actual != expected)
                {
                    wrong.Add($"{name} as {caller}: {status}, expected {expected}");
                }

                Assert.NotEqual(StatusCode.Unknown, status);
                Assert.NotEqual(StatusCode.Internal, status);
            }
        }

        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public async Task Health_and_reflection_stay_anonymous_with_tokens_on()
    {
        var health = await new Health.HealthClient(daemon.Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        // ServerReflectionRequest { list_services: "" } (field 7), as grpcurl sends it.
        var reflection = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo", Bytes, Bytes);
        using var call = daemon.Channel.CreateCallInvoker().AsyncDuplexStreamingCall(reflection, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30)));
        await call.RequestStream.WriteAsync([0x3A, 0x00]);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(default));
        Assert.Contains("seeddaemon.v1.SeedService", System.Text.Encoding.ASCII.GetString(call.ResponseStream.Current), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "/v1/experiments", "anyone")]
    [InlineData("GET", "/v1/seed?experiment_id=matrix/none&worker=1&library=torch", "issuer")]
    [InlineData("GET", "/v1/audit/events?experiment_id=matrix/none", "auditor")]
    [InlineData("GET", "/v1/audit/manifest?experiment_id=matrix/none", "auditor")]
    [InlineData("POST", "/v1/admin/backups", "admin")]
    public async Task REST_answers_each_caller_as_gRPC_does(string verb, string path, string row)
    {
        var allowed = row switch { "anyone" => Anyone, "issuer" => Issuers, "auditor" => Auditors, _ => Admins };
        using var http = new HttpClient { BaseAddress = new Uri(daemon.Addresses[1]) };
        foreach (var (caller, token) in Callers)
        {
            using var request = new HttpRequestMessage(new HttpMethod(verb), path);
            if (verb == "POST")
            {
                request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
            }

            if (token is not null)
            {
                request.Headers.Add("authorization", "Bearer " + token);
            }

            var status = (await http.SendAsync(request)).StatusCode;
            var expected = token is null || caller == "wrong token" ? HttpStatusCode.Unauthorized
                : allowed.Contains(caller) ? (HttpStatusCode?)null
                : HttpStatusCode.Forbidden;
            if (expected is { } refused)
            {
                Assert.True(status == refused, $"{verb} {path} as {caller}: {status}, expected {refused}");
            }
            else
            {
                Assert.True(status is not HttpStatusCode.Unauthorized and not HttpStatusCode.Forbidden and not HttpStatusCode.InternalServerError, $"{verb} {path} as {caller}: {status}");
            }
        }
    }

    [Fact]
    public async Task Metrics_stay_anonymous_with_tokens_on_as_the_README_says()
    {
        using var http = new HttpClient { BaseAddress = new Uri(daemon.Addresses[1]) };
        var metrics = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("seedd_", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<StatusCode> CallAsync(CallInvoker invoker, MethodDescriptor method, string? token)
    {
        var headers = token is null ? new Metadata() : new Metadata { { "authorization", "Bearer " + token } };
        var options = new CallOptions(headers, DateTime.UtcNow.AddSeconds(30));
        try
        {
            if (method.IsServerStreaming)
            {
                var streaming = new Method<byte[], byte[]>(MethodType.ServerStreaming, method.Service.FullName, method.Name, Bytes, Bytes);
                using var call = invoker.AsyncServerStreamingCall(streaming, null, options, []);
                while (await call.ResponseStream.MoveNext(default))
                {
                }
            }
            else
            {
                var unary = new Method<byte[], byte[]>(MethodType.Unary, method.Service.FullName, method.Name, Bytes, Bytes);
                await invoker.AsyncUnaryCall(unary, null, options, []);
            }

            return StatusCode.OK;
        }
        catch (RpcException error)
        {
            return error.StatusCode;
        }
    }
}
