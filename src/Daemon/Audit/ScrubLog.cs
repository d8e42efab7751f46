namespace SeedDaemon.Daemon.Audit;

internal static partial class ScrubLog
{
    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "Store check started (background, every {IntervalSeconds} s, {DutyPercent}% of the time)")]
    public static partial void Started(ILogger logger, int intervalSeconds, int dutyPercent);

    [LoggerMessage(EventId = 501, Level = LogLevel.Error, Message = "Store check finding: experiment '{Experiment}', {Where}: {Problem}")]
    public static partial void Finding(ILogger logger, string experiment, string where, string problem);

    [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "Store check done in {Seconds:F1} s: {Documents} documents, {Experiments} experiments, {Events} events, {Seeds} seeds, {Fingerprints} fingerprints read; {Findings} findings")]
    public static partial void Completed(ILogger logger, double seconds, long documents, long experiments, long events, long seeds, long fingerprints, long findings);

    [LoggerMessage(EventId = 503, Level = LogLevel.Information, Message = "Store check skipped: another one is running")]
    public static partial void Skipped(ILogger logger);

    [LoggerMessage(EventId = 504, Level = LogLevel.Error, Message = "Store check failed")]
    public static partial void Failed(ILogger logger, Exception error);
}
