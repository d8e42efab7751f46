using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using SeedDaemon.Daemon.Audit;
using SeedDaemon.Daemon.Grpc;
using System.Security.Cryptography.X509Certificates;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Operations;
using SeedDaemon.Daemon.Security;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Daemon.Storage;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>Builds, starts and runs the daemon. Tests start it in-process through <see cref="StartAsync"/>.</summary>
public static class SeeddApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        RunningSeedd running;
        try
        {
            var settings = CommandLine.Parse(args, Console.Out);
            if (settings is null)
            {
                return ExitCodes.Ok;
            }

            running = await StartAsync(settings);
        }
        catch (SeeddStartException error)
        {
            await Console.Error.WriteLineAsync($"seedd: {error.Message}");
            return error.ExitCode;
        }

        await using (running)
        {
            await running.App.WaitForShutdownAsync();
        }

        return ExitCodes.Ok;
    }

    /// <summary>Opens the database, binds the listener and starts serving.</summary>
    public static async Task<RunningSeedd> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (settings.TryGetValue(CommandLine.ConfigFileKey, out var configFile) && configFile is not null)
        {
            if (!File.Exists(configFile))
            {
                throw new SeeddStartException(ExitCodes.InvalidConfiguration, $"--config: {configFile} does not exist.");
            }

            // The file, then the environment, then the command line: later sources win.
            builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
            builder.Configuration.AddEnvironmentVariables();
        }

        builder.Configuration.AddInMemoryCollection(settings);
        ReadConnectionStringFile(builder.Configuration);

        var options = builder.Configuration.GetSection(SeeddOptions.SectionName).Get<SeeddOptions>() ?? new SeeddOptions();
        var validation = new SeeddOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new SeeddStartException(ExitCodes.InvalidConfiguration, "invalid configuration: " + validation.FailureMessage);
        }

        ConfigureLogging(builder, options);
        ConfigureServices(builder.Services, builder.Configuration);
        var listen = ListenEndpoint.Parse(options.Listen);
        ConfigureKestrel(builder, options, listen);
        configure?.Invoke(builder);

        var app = builder.Build();

        // Listeners first: a taken port must stop the start before the store creates or opens anything.
        if (ListenCheck.FirstTaken(options) is { } taken)
        {
            await app.DisposeAsync();
            throw new SeeddStartException(ExitCodes.ListenFailed, taken);
        }

        // The store opens on another thread (a million keys take about a second to load) while this
        // one maps the endpoints, which compiles much of gRPC's code: on two cores the start is
        // shorter by what those take.
        var opening = Task.Run(() => app.Services.GetRequiredService<ISeedStore>());
        MapEndpoints(app);
        ISeedStore store;
        try
        {
            store = await opening;
        }
        catch (StoreOpenException error)
        {
            await app.DisposeAsync();
            throw new SeeddStartException(ExitCodes.DatabaseUnavailable, error.Message, error);
        }

        try
        {
            await app.StartAsync();
        }
        catch (IOException error)
        {
            // Taken between the check and the bind: what opening the store created goes again.
            store.DisposeAfterRefusedStart();
            await app.DisposeAsync();
            var reason = error.InnerException?.Message ?? error.Message;
            throw new SeeddStartException(ExitCodes.ListenFailed, $"cannot listen on {options.Listen}: {reason}", error);
        }

        if (listen.IsUnixSocket)
        {
            UnixSocket.RestrictToGroup(listen.UnixSocketPath!);
        }

        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("SeedDaemon.Daemon");
        if (logger.IsEnabled(LogLevel.Information))
        {
            var listeners = string.Join(", ", addresses.Select((a, i) => i == 0 ? $"{a} (gRPC)" : $"{a} (HTTP/1.1: REST, /metrics)"));
            HostingLog.Listening(logger, CommandLine.Version, listeners, store.Location, SeedSeqV1.Scheme);
            var tokens = options.Auth.Tokens;
            if (tokens.Count > 0)
            {
                HostingLog.AuthOn(logger, tokens.Count, string.Join(", ", tokens.GroupBy(t => t.Role).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}")));
            }
            else
            {
                HostingLog.AuthOff(logger, listen.IsLocalOnly ? "this machine only (loopback or a Unix socket)" : "any machine that reaches the listener (Seedd:Auth:AllowAnonymous)");
            }
        }

        app.Lifetime.ApplicationStopping.Register(() => HostingLog.Stopping(logger));
        app.Services.GetRequiredService<SystemdNotifier>().Notify("READY=1");
        return new RunningSeedd(app, addresses);
    }

    /// <summary>Seedd:Postgres:ConnectionStringFile (systemd credentials, a mounted secret) fills in the connection string.</summary>
    private static void ReadConnectionStringFile(ConfigurationManager configuration)
    {
        const string FileKey = "Seedd:Postgres:ConnectionStringFile";
        const string Key = "Seedd:Postgres:ConnectionString";
        if (configuration[FileKey] is not { Length: > 0 } file || !string.IsNullOrWhiteSpace(configuration[Key]))
        {
            return;
        }

        try
        {
            configuration[Key] = File.ReadAllText(file).Trim();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new SeeddStartException(ExitCodes.InvalidConfiguration, $"invalid configuration: {FileKey}: cannot read {file}: {error.Message}");
        }
    }

    private static void ConfigureLogging(WebApplicationBuilder builder, SeeddOptions options)
    {
        builder.Logging.ClearProviders();

        // A failed start is reported once, by RunAsync, in one line; not again as a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        if (options.LogFormat == "json")
        {
            builder.Logging.AddJsonConsole(json =>
            {
                json.UseUtcTimestamp = true;
                json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                json.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 })
        {
            // Under systemd: one line per entry with a syslog priority prefix journald understands.
            builder.Logging.AddSystemdConsole();
        }
        else
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.UseUtcTimestamp = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            });
        }
    }

    private static void ConfigureServices(IServiceCollection services, ConfigurationManager configuration)
    {
        services.AddOptions<SeeddOptions>().Bind(configuration.GetSection(SeeddOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SeeddOptions>, SeeddOptionsValidator>();
        services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(8));

        services.AddSingleton(StoreFactory.Open);
        services.AddSingleton(sp => new SeeddLimits(sp.GetRequiredService<IOptions<SeeddOptions>>().Value.MaxBatchKeys));
        services.AddSingleton<ColumnCache>(_ => new ColumnCache());
        services.AddSingleton<ExperimentRegistry>();
        services.AddSingleton<SeedIssuer>();
        services.AddSingleton<LedgerAuditor>();

        services.AddSingleton<TokenAuthenticator>();
        services.AddSingleton<Metrics>();
        services.AddSingleton<SystemdNotifier>();
        services.AddHostedService(sp => sp.GetRequiredService<SystemdNotifier>());
        var maxMessageBytes = configuration.GetValue($"{SeeddOptions.SectionName}:{nameof(SeeddOptions.MaxMessageBytes)}", new SeeddOptions().MaxMessageBytes);
        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = maxMessageBytes;
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

        // Bind every gRPC service (ours, health, reflection) so that malformed messages are
        // INVALID_ARGUMENT: Grpc.AspNetCore's own binder gives way to ours. JSON transcoding's
        // provider (REST over HTTP/1.1) stays.
        var binders = services.Where(d => d.ServiceType == typeof(IServiceMethodProvider<>) && d.ImplementationType?.Name.StartsWith("BinderServiceMethodProvider", StringComparison.Ordinal) == true).ToList();
        foreach (var binder in binders)
        {
            services.Remove(binder);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IServiceMethodProvider<>), typeof(StrictServiceMethodProvider<>)));
    }

    private static void ConfigureKestrel(WebApplicationBuilder builder, SeeddOptions options, ListenEndpoint endpoint)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> http2 = listen =>
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
            else if (endpoint.Address is null)
            {
                kestrel.ListenLocalhost(endpoint.Port, http2);
            }
            else
            {
                kestrel.Listen(endpoint.Address, endpoint.Port, http2);
            }

            if (!string.IsNullOrEmpty(options.HttpListen))
            {
                var http = ListenEndpoint.Parse(options.HttpListen);
                Action<Microsoft.AspNetCore.Server.Kestrel.Core.ListenOptions> http1 = listen => listen.Protocols = HttpProtocols.Http1;
                if (http.Address is null)
                {
                    kestrel.ListenLocalhost(http.Port, http1);
                }
                else
                {
                    kestrel.Listen(http.Address, http.Port, http1);
                }
            }
        });
    }

    private static void MapEndpoints(WebApplication app)
    {
        // Routing is added explicitly so the path is rewritten before an endpoint is chosen.
        app.UseDecodedSlashesInRestPaths();
        app.UseRouting();
        app.MapGrpcService<SeedGrpcService>();
        app.MapGrpcService<AuditGrpcService>();
        app.MapGrpcService<AdminGrpcService>();
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();

        // Prometheus scrapes over HTTP/1.1, on the --http-listen listener only.
        app.MapGet("/metrics", (HttpContext context, Metrics metrics, ISeedStore store) =>
            context.Request.Protocol.StartsWith("HTTP/1", StringComparison.Ordinal)
                ? Results.Text(metrics.Render(store.Statistics), "text/plain; version=0.0.4; charset=utf-8")
                : Results.NotFound());
    }
}

/// <summary>A started daemon and its actual addresses (port 0 resolved).</summary>
public sealed class RunningSeedd(WebApplication app, IReadOnlyList<string> addresses) : IAsyncDisposable
{
    public WebApplication App { get; } = app;

    public IReadOnlyList<string> Addresses { get; } = addresses;

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
