using Grpc.Core;

namespace SeedDaemon.Client;

/// <summary>
/// Retries of idempotent calls: UNAVAILABLE, and an attempt that ran past its own deadline (a daemon
/// that hangs with its connection open), are retried with capped, jittered exponential backoff
/// until the retry window closes; the balancer sends the next attempt to the next replica.
/// </summary>
internal static class Retry
{
    /// <param name="notAnswering">Told of each failed attempt's detail (the client says so once per outage).</param>
    public static async Task<T> UntilAnsweredAsync<T>(Func<CallOptions, Task<T>> call, SeedClientOptions options, Action<string> notAnswering, CancellationToken cancellationToken)
    {
        var giveUpAt = DateTime.UtcNow + options.RetryTimeout;
        var backoff = options.InitialBackoff;
        for (var attempt = 1; ; attempt++)
        {
            var callOptions = new CallOptions(deadline: DateTime.UtcNow + options.CallTimeout, cancellationToken: cancellationToken);
            try
            {
                return await call(callOptions);
            }
            catch (RpcException error) when (NotAnswered(error, cancellationToken) && DateTime.UtcNow < giveUpAt)
            {
                notAnswering(RpcErrors.Describe(error));

                // Full jitter keeps a fleet that lost its daemon from coming back in lockstep; the last
                // attempt is made when the window closes, so a caller waits the whole window it was promised.
                var jittered = TimeSpan.FromTicks((long)(backoff.Ticks * (0.5 + (Random.Shared.NextDouble() / 2))));
                var delay = TimeSpan.FromTicks(Math.Min(jittered.Ticks, Math.Max(0, (giveUpAt - DateTime.UtcNow).Ticks)));
                await Task.Delay(delay, cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxBackoff.Ticks));
            }
            catch (RpcException error) when (NotAnswered(error, cancellationToken) && options.RetryTimeout > TimeSpan.Zero)
            {
                throw new RpcException(new Status(
                    StatusCode.Unavailable,
                    $"seedd at {options.Describe()} did not answer within {options.RetryTimeout.TotalSeconds:0.#} s ({attempt} attempts; last: {RpcErrors.Describe(error)}). Is it running, and is SEEDD_ADDRESS right?",
                    error.Status.DebugException));
            }
        }
    }

    /// <summary>The daemon did not answer: unreachable, or this attempt's deadline passed (not the caller's cancellation).</summary>
    private static bool NotAnswered(RpcException error, CancellationToken cancellationToken) =>
        error.StatusCode is StatusCode.Unavailable || (error.StatusCode is StatusCode.DeadlineExceeded && !cancellationToken.IsCancellationRequested);
}
