using Microsoft.Extensions.Diagnostics.HealthChecks;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>grpc.health.v1 answers SERVING only while the store accepts writes.</summary>
internal sealed class StoreHealthCheck(ISeedStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(store.IsWritable
            ? HealthCheckResult.Healthy($"database {store.Location}")
            : HealthCheckResult.Unhealthy($"database {store.Location} does not accept writes"));
}
