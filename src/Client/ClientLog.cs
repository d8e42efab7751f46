using Microsoft.Extensions.Logging;

namespace SeedDaemon.Client;

internal static partial class ClientLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "seedd at {Address} is not answering ({Detail}); retrying for up to {Seconds:0} s")]
    public static partial void NotAnswering(ILogger logger, string address, string detail, double seconds);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "run id {RunId} generated for this single process (set SEEDD_RUN to name it)")]
    public static partial void RunIdGenerated(ILogger logger, string runId);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "run {RunId}: the fingerprint queue is full ({Capacity} steps; seedd is not keeping up or not answering): {Dropped} oldest step(s) dropped so far")]
    public static partial void QueueFull(ILogger logger, string runId, int capacity, long dropped);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "run {RunId}: seedd is not answering; fingerprints wait in the queue and are retried ({Detail})")]
    public static partial void RunNotAnswering(ILogger logger, string runId, string detail);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "run {RunId}: seedd refused {Method}: {Detail}")]
    public static partial void RunRefused(ILogger logger, string runId, string method, string detail);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "run {RunId}: {Detail}: this launch reuses the run id of an earlier one, so its steps count as repeats or conflicts of that one. Set SEEDD_RUN to a new id for a new run.")]
    public static partial void RunIdReused(ILogger logger, string runId, string detail);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "run {RunId}: {Left} step(s) could not be sent to seedd before it was closed; {Dropped} were dropped when the queue was full")]
    public static partial void RunClosedWithLoss(ILogger logger, string runId, int left, long dropped);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "run {RunId}: no signed checkpoint of '{ExperimentId}' at close: {Detail}")]
    public static partial void NoCheckpointAtClose(ILogger logger, string runId, string experimentId, string detail);
}

/// <summary>Where the SDK writes when the application gave it no logger: one line on standard error.</summary>
internal sealed class StandardErrorLogger : ILogger
{
    public static StandardErrorLogger Instance { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            Console.Error.WriteLine($"seedd-client: {formatter(state, exception)}");
        }
    }
}
