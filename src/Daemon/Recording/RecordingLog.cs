namespace SeedDaemon.Daemon.Recording;

internal static partial class RecordingLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Trace, Message = "Group commit: {Operations} operations durable in {Milliseconds:F3} ms")]
    public static partial void BatchCommitted(ILogger logger, int operations, double milliseconds);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Group commit of {Operations} operations failed; nothing of it was recorded")]
    public static partial void BatchFailed(ILogger logger, int operations, Exception error);

    [LoggerMessage(EventId = 109, Level = LogLevel.Warning, Message = "Store upkeep (checkpoint) failed; it is tried again later")]
    public static partial void UpkeepFailed(ILogger logger, Exception error);
}
