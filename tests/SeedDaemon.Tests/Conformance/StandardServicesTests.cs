using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;

namespace SeedDaemon.Tests.Conformance;

/// <summary>The standard health and reflection services that load balancers and grpcurl-style tools use.</summary>
public abstract class StandardServicesTests<TDaemon>(TDaemon daemon) : IClassFixture<TDaemon>
    where TDaemon : ConformanceDaemon
{
    [Fact]
    public async Task Health_reports_serving()
    {
        var health = new Health.HealthClient(daemon.Channel);
        var response = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Reflection_lists_the_services()
    {
        var reflection = new ServerReflection.ServerReflectionClient(daemon.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("seeddaemon.v1.SeedService", services);
        Assert.Contains("seeddaemon.v1.AuditService", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }
}
