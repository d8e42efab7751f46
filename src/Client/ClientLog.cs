using Microsoft.Extensions.Logging;

namespace SeedDaemon.Client;

internal static partial class ClientLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "seedd at {Address} is not answering ({Detail}); retrying for up to {Seconds:0} s")]
    public static partial void NotAnswering(ILogger logger, string address, string detail, double seconds);
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
