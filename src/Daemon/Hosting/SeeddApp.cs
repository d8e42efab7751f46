using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using SeedDaemon.Daemon.Operations;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Daemon.Storage.LiteDb;
using SeedDaemon.Daemon.Transparency;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>Builds, starts and runs the daemon. Tests start it in-process through <see cref="StartAsync"/>.</summary>
internal static class SeeddApp
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

    /// <summary>Reads the configuration, checks the listeners, opens the store, and starts serving; each step can refuse the start.</summary>
    public static async Task<RunningSeedd> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = SeeddConfiguration.Guarded(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), () => WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        }));
        var options = SeeddConfiguration.Load(builder.Configuration, settings);

        // Read (never written) before anything is opened: a key others can read refuses the start untouched.
        LedgerKeyFile ledgerKey;
        try
        {
            var database = string.IsNullOrWhiteSpace(options.Database) ? DatabaseLocation.Default(Environment.GetEnvironmentVariable) : options.Database;
            ledgerKey = LedgerKeyFile.Load(options.Ledger, Path.GetDirectoryName(Path.GetFullPath(database))!, Environment.GetEnvironmentVariable);
        }
        catch (LedgerKeyException error)
        {
            throw new SeeddStartException(ExitCodes.InvalidConfiguration, error.Message, error);
        }

        SeeddLogging.Configure(builder.Logging, options);
        SeeddServices.Add(builder.Services, options, ledgerKey);
        var listen = ListenEndpoint.Parse(options.Listen);
        SeeddListeners.Configure(builder, options, listen);
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
        SeeddListeners.MapEndpoints(app, options);
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
            ledgerKey.Persist(FileSystemMedium.Instance.SyncDirectory);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            store.DisposeAfterRefusedStart();
            await app.DisposeAsync();
            throw new SeeddStartException(ExitCodes.InvalidConfiguration, $"cannot write the new ledger key file {ledgerKey.Path}: {error.Message}", error);
        }

        try
        {
            await app.StartAsync();
        }
        catch (IOException error)
        {
            // Taken between the check and the bind: what opening the store created goes again.
            ledgerKey.RemoveAfterRefusedStart();
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
        HostingLog.LedgerKey(logger, ledgerKey.Signer.Name, ledgerKey.Path, ledgerKey.Created ? " (generated now, readable by this user only: keep a copy with your backups)" : "", ledgerKey.Signer.VerifierKey);
        if (ledgerKey.Created && options.UsesPostgres)
        {
            HostingLog.LedgerKeyForReplicas(logger, ledgerKey.Path);
        }

        ReportStarted(logger, options, listen, addresses, store);

        app.Lifetime.ApplicationStopping.Register(() => HostingLog.Stopping(logger));
        app.Services.GetRequiredService<SystemdNotifier>().Notify("READY=1");
        return new RunningSeedd(app, addresses);
    }

    private static void ReportStarted(ILogger logger, SeeddOptions options, ListenEndpoint listen, string[] addresses, ISeedStore store)
    {
        if (!logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

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
}

/// <summary>A started daemon and its actual addresses (port 0 resolved).</summary>
internal sealed class RunningSeedd(WebApplication app, IReadOnlyList<string> addresses) : IAsyncDisposable
{
    public WebApplication App { get; } = app;

    public IReadOnlyList<string> Addresses { get; } = addresses;

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
