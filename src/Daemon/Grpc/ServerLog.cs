namespace SeedDaemon.Daemon.Grpc;

internal static partial class ServerLog
{
    [LoggerMessage(EventId = 300, Level = LogLevel.Error, Message = "Unhandled error in {Method}")]
    public static partial void UnhandledError(ILogger logger, string method, Exception error);
}
