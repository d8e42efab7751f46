namespace SeedDaemon.Daemon.Storage.Postgres;

internal static partial class PostgresLog
{
    [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "{Location}: schema version {Version} ready (found {Found})")]
    public static partial void SchemaReady(ILogger logger, string location, int found, int version);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "{Location} is not reachable ({Reason}); serving NOT_SERVING and reconnecting every second")]
    public static partial void Unreachable(ILogger logger, string location, string reason);

    [LoggerMessage(EventId = 122, Level = LogLevel.Warning, Message = "{Location} is reachable again; serving")]
    public static partial void Reachable(ILogger logger, string location);

    [LoggerMessage(EventId = 123, Level = LogLevel.Debug, Message = "Group commit attempt {Attempt} lost a race with another replica ({Reason}); planning it again")]
    public static partial void Retrying(ILogger logger, int attempt, string reason);

    [LoggerMessage(EventId = 124, Level = LogLevel.Warning, Message = "{Location}: reconnecting failed ({Reason})")]
    public static partial void ProbeFailed(ILogger logger, string location, string reason);
}
