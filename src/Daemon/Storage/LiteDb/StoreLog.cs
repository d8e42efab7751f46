namespace SeedDaemon.Daemon.Storage.LiteDb;

internal static partial class StoreLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Opened seed database {Path}: {Experiments} experiments, {Keys} issued keys ({TailEvents} ledger events replayed after the last checkpoint) in {Seconds:F2} s")]
    public static partial void Opened(ILogger logger, string path, int experiments, long keys, long tailEvents, double seconds);

    [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "Created a new, empty seed database at {Path}: no database existed there")]
    public static partial void Created(ILogger logger, string path);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Rollback after a failed group commit failed")]
    public static partial void RollbackFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Closed seed database {Path}")]
    public static partial void Closed(ILogger logger, string path);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Seed database {Path} failed and was closed; it is reopened on the next write")]
    public static partial void SessionAbandoned(ILogger logger, string path, Exception cause);

    [LoggerMessage(EventId = 106, Level = LogLevel.Warning, Message = "Seed database {Path} reopened")]
    public static partial void Reopened(ILogger logger, string path);

    [LoggerMessage(EventId = 107, Level = LogLevel.Debug, Message = "Checkpointed issued keys: {Chunks} chunks of {Experiments} experiments after {Events} ledger events, in {Milliseconds:F1} ms")]
    public static partial void KeysCheckpointed(ILogger logger, int chunks, int experiments, long events, double milliseconds);

    [LoggerMessage(EventId = 108, Level = LogLevel.Warning, Message = "Seed database {Path} is in storage layout {Layout}; migrating it to layout {Target}")]
    public static partial void Migrating(ILogger logger, string path, int layout, int target);
}
