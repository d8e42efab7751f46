using Microsoft.Extensions.Logging;

namespace SeedDaemon.Testing;

/// <summary>An ILogger that keeps each formatted message, and tells a waiter when one containing a text arrives.</summary>
public sealed class RecordingLogger : ILogger
{
    private readonly List<string> _messages = [];
    private readonly List<(string Text, TaskCompletionSource<string> Seen)> _waiters = [];

    public IReadOnlyList<string> Messages
    {
        get
        {
            lock (_messages)
            {
                return [.. _messages];
            }
        }
    }

    /// <summary>Completes with the first message (already logged or still to come) that contains <paramref name="text"/>.</summary>
    public Task<string> WaitForAsync(string text)
    {
        lock (_messages)
        {
            if (_messages.FirstOrDefault(m => m.Contains(text, StringComparison.Ordinal)) is { } seen)
            {
                return Task.FromResult(seen);
            }

            var waiter = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((text, waiter));
            return waiter.Task;
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        lock (_messages)
        {
            _messages.Add(message);
            foreach (var (text, seen) in _waiters.Where(w => message.Contains(w.Text, StringComparison.Ordinal)).ToList())
            {
                seen.TrySetResult(message);
            }
        }
    }
}
