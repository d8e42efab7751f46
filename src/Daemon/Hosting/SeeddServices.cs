using Microsoft.Extensions.Options;
using SeedDaemon.Daemon.Audit;
using SeedDaemon.Daemon.Grpc;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Operations;
using SeedDaemon.Daemon.Runs;
using SeedDaemon.Daemon.Security;
using SeedDaemon.Daemon.Transparency;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>The daemon's services: the domain, the store, gRPC with its interceptors, REST, health and reflection.</summary>
internal static class SeeddServices
{
    public static void Add(IServiceCollection services, SeeddOptions options, LedgerKeyFile ledgerKey)
    {
        services.AddSingleton(ledgerKey);
        // Bound and validated once, by SeeddConfiguration; every consumer gets this instance.
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(options.Auth);
        services.AddSingleton(new RequestLimits(options.MaxBatchKeys));
        services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(8));

        // The store only: its reader is the backend, which the store disposes; registered as a
        // service of its own, the container would dispose it a second time, maybe before the writer stopped.
        services.AddSingleton(StoreFactory.Open);
        services.AddSingleton<ColumnCache>(_ => new ColumnCache());
        services.AddSingleton<ExperimentRegistry>();
        services.AddSingleton<SeedIssuer>();
        services.AddSingleton<LedgerAuditor>();
        services.AddSingleton<CheckpointSigner>();
        services.AddSingleton<LedgerProofs>();
        services.AddSingleton<RunRecorder>();
        services.AddSingleton<ScrubState>();
        services.AddSingleton<StoreScrub>();
        services.AddSingleton(options.Scrub);
        services.AddHostedService<ScrubSchedule>();

        services.AddSingleton<TokenAuthenticator>();
        services.AddSingleton<Metrics>();
        services.AddSingleton<SystemdNotifier>();
        services.AddHostedService(sp => sp.GetRequiredService<SystemdNotifier>());

        // Singletons: the handlers StrictServiceMethodProvider takes from one instance serve every call.
        services.AddSingleton<SeedGrpcService>();
        services.AddSingleton<AuditGrpcService>();
        services.AddSingleton<AdminGrpcService>();
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxMessageBytes;
            grpc.Interceptors.Add<MetricsInterceptor>();
            grpc.Interceptors.Add<ErrorInterceptor>();
            grpc.Interceptors.Add<AuthInterceptor>();
        }).AddJsonTranscoding(rest =>
        {
            // The error details ErrorInterceptor attaches, so REST callers see them as JSON too.
            rest.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromMessages(Google.Rpc.BadRequest.Descriptor, Google.Rpc.ResourceInfo.Descriptor);

            // The proto3 JSON mapping: 64-bit integers as strings, so no JavaScript client rounds a seed.
            rest.JsonSettings.WriteInt64sAsStrings = true;
        });
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks(health => health.UseHealthChecksCache = false)
            .AddCheck<StoreHealthCheck>("store");
        GrpcBinding.UseStrictBinder(services);
    }
}
