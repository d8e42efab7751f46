namespace SeedDaemon.Daemon.Hosting;

internal static partial class HostingLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "seedd {Version} listening on {Addresses}; database {Database}; scheme {Scheme}")]
    public static partial void Listening(ILogger logger, string version, string addresses, string database, string scheme);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "seedd stopping")]
    public static partial void Stopping(ILogger logger);
}
