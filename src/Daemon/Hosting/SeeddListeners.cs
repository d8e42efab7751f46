using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using SeedDaemon.Daemon.Audit;
using SeedDaemon.Daemon.Grpc;
using SeedDaemon.Daemon.Operations;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>What seedd listens on (Kestrel) and what it serves there (endpoints).</summary>
internal static class SeeddListeners
{
    public static void Configure(WebApplicationBuilder builder, SeeddOptions options, ListenEndpoint endpoint)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            Action<ListenOptions> http2 = listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                if (options.Tls.Enabled)
                {
                    listen.UseHttps(X509Certificate2.CreateFromPemFile(options.Tls.CertificatePath!, options.Tls.KeyPath));
                }
            };
            if (endpoint.IsUnixSocket)
            {
                UnixSocket.RemoveStale(endpoint.UnixSocketPath!);
                kestrel.ListenUnixSocket(endpoint.UnixSocketPath!, http2);
            }
            else
            {
                Listen(kestrel, endpoint, http2);
            }

            if (!string.IsNullOrEmpty(options.HttpListen))
            {
                Listen(kestrel, ListenEndpoint.Parse(options.HttpListen), listen => listen.Protocols = HttpProtocols.Http1);
            }
        });
    }

    private static void Listen(KestrelServerOptions kestrel, ListenEndpoint endpoint, Action<ListenOptions> configure)
    {
        if (endpoint.Address is null)
        {
            kestrel.ListenLocalhost(endpoint.Port, configure);
        }
        else
        {
            kestrel.Listen(endpoint.Address, endpoint.Port, configure);
        }
    }

    public static void MapEndpoints(WebApplication app, SeeddOptions options)
    {
        // Routing is added explicitly so the path is rewritten before an endpoint is chosen, and
        // REST requests are checked once it is.
        app.UseDecodedSlashesInRestPaths();
        app.UseRouting();
        app.UseRestRequestCheck(options.MaxMessageBytes);
        app.UseBatchSizeErrors(options.MaxMessageBytes, options.MaxBatchKeys);
        app.MapGrpcService<SeedGrpcService>();
        app.MapGrpcService<AuditGrpcService>();
        app.MapGrpcService<AdminGrpcService>();
        app.MapGrpcService<RunGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapGet(ManifestDocumentEndpoint.Path, ManifestDocumentEndpoint.ServeAsync);

        // Prometheus scrapes over HTTP/1.1, on the --http-listen listener only.
        app.MapGet("/metrics", (HttpContext context, Metrics metrics, ISeedStore store, ScrubState scrub) =>
            context.Request.Protocol.StartsWith("HTTP/1", StringComparison.Ordinal)
                ? Results.Text(metrics.Render(store.Statistics, scrub.Gauges), "text/plain; version=0.0.4; charset=utf-8")
                : Results.NotFound());
    }
}
