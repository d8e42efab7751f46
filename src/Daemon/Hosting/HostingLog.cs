namespace SeedDaemon.Daemon.Hosting;

internal static partial class HostingLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "seedd {Version} listening on {Addresses}; store {Store}; scheme {Scheme}")]
    public static partial void Listening(ILogger logger, string version, string addresses, string store, string scheme);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "auth on: {Count} bearer tokens ({Roles}); health, reflection and /metrics answer anyone")]
    public static partial void AuthOn(ILogger logger, int count, string roles);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "auth off: no tokens configured, every caller is served anonymously; reachable from {Reach}")]
    public static partial void AuthOff(ILogger logger, string reach);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "seedd stopping")]
    public static partial void Stopping(ILogger logger);
}
