extern alias daemon;

using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using daemon::SeedDaemon.Daemon.Grpc;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Security;

/// <summary>
/// A request that is not a valid protobuf message is INVALID_ARGUMENT on every method seedd serves,
/// ours and gRPC's health and reflection, through the binder that replaces Grpc.AspNetCore's own
/// (<see cref="StrictServiceMethodProvider{TService}"/>). Without it these calls answer UNKNOWN.
/// </summary>
public sealed class StrictBindingTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    /// <summary>Field 1 as a length-delimited value whose length runs past the end of the message.</summary>
    private static readonly byte[] Truncated = [0x0A, 0x7F, 0x01];

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create<byte[]>(b => b, b => b);

    public static TheoryData<string, string, MethodType> Methods()
    {
        var data = new TheoryData<string, string, MethodType>();
        foreach (var service in new[] { SeedServiceReflection.Descriptor, AuditServiceReflection.Descriptor, AdminServiceReflection.Descriptor, RunServiceReflection.Descriptor, HealthReflection.Descriptor }.SelectMany(f => f.Services))
        {
            foreach (var method in service.Methods)
            {
                data.Add(service.FullName, method.Name, TypeOf(method));
            }
        }

        data.Add("grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo", MethodType.DuplexStreaming);
        return data;
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task A_malformed_request_is_INVALID_ARGUMENT(string service, string name, MethodType type)
    {
        var method = new Method<byte[], byte[]>(type, service, name, Raw, Raw);
        var invoker = daemon.Channel.CreateCallInvoker();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(method, null, new CallOptions(), Truncated);
                    break;
                case MethodType.ServerStreaming:
                    using (var call = invoker.AsyncServerStreamingCall(method, null, new CallOptions(), Truncated))
                    {
                        await call.ResponseStream.MoveNext();
                    }

                    break;
                default:
                    using (var call = invoker.AsyncDuplexStreamingCall(method, null, new CallOptions()))
                    {
                        await call.RequestStream.WriteAsync(Truncated);
                        await call.ResponseStream.MoveNext();
                    }

                    break;
            }
        });
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("is not a valid", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Well_formed_requests_still_reach_every_kind_of_service()
    {
        var health = await new Health.HealthClient(daemon.Channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "strict/ok", Root = "42" });
        var seed = await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "strict/ok", Worker = 0, Library = "torch" });
        Assert.Equal(SeedDaemon.Derivation.SeedSeqV1.Derive(42, 0, "torch", "").Seed, seed.Seed);
    }

    /// <summary>The one piece that depends on gRPC's internals: this fails first when a gRPC upgrade renames or drops its binder.</summary>
    [Fact]
    public void Grpc_AspNetCores_binder_is_found_once_and_replaced()
    {
        var services = new ServiceCollection();
        services.AddGrpc();
        GrpcBinding.UseStrictBinder(services);
        var providers = services.Where(d => d.ServiceType == typeof(IServiceMethodProvider<>)).Select(d => d.ImplementationType!.FullName).ToList();
        Assert.Contains(typeof(StrictServiceMethodProvider<>).FullName, providers);
        Assert.DoesNotContain(GrpcBinding.GrpcBinderType, providers);
    }

    private static MethodType TypeOf(MethodDescriptor method) => (method.IsClientStreaming, method.IsServerStreaming) switch
    {
        (false, false) => MethodType.Unary,
        (false, true) => MethodType.ServerStreaming,
        (true, false) => MethodType.ClientStreaming,
        _ => MethodType.DuplexStreaming,
    };
}
