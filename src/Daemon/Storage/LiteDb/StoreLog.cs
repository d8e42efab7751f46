using Microsoft.Extensions.Logging;

namespace SeedDaemon.Daemon.Storage.LiteDb;

internal static partial class StoreLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Opened seed database {Path}: {Experiments} experiments")]
    public static partial void Opened(ILogger logger, string path, int experiments);

    [LoggerMessage(EventId = 101, Level = LogLevel.Trace, Message = "Group commit: {Operations} operations durable in {Milliseconds:F3} ms")]
    public static partial void BatchCommitted(ILogger logger, int operations, double milliseconds);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Group commit of {Operations} operations failed and was rolled back")]
    public static partial void BatchFailed(ILogger logger, int operations, Exception error);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Rollback after a failed group commit failed")]
    public static partial void RollbackFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Seed database {Path} failed and was closed; it is reopened on the next write")]
    public static partial void SessionAbandoned(ILogger logger, string path, Exception cause);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "Seed database {Path} reopened")]
    public static partial void Reopened(ILogger logger, string path);

    [LoggerMessage(EventId = 107, Level = LogLevel.Information, Message = "Seed database {Path}: {Keys} issued keys indexed in memory in {Seconds:F2} s")]
    public static partial void IssuedKeysLoaded(ILogger logger, string path, int keys, double seconds);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "Seed database {Path}: the in-memory index of issued keys could not be loaded; every key is looked up in the file (slower, not wrong)")]
    public static partial void IssuedKeysFailed(ILogger logger, string path, Exception error);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Closed seed database {Path}")]
    public static partial void Closed(ILogger logger, string path);
}
