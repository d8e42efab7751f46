using Grpc.Core;

namespace SeedDaemon.Client;

/// <summary>Retries of idempotent calls: UNAVAILABLE is retried with capped, jittered exponential backoff until the retry window closes.</summary>
internal static class Retry
{
    /// <param name="notAnswering">Told of each failed attempt's detail (the client says so once per outage).</param>
    public static async Task<T> UnavailableAsync<T>(Func<CallOptions, Task<T>> call, SeedClientOptions options, Action<string> notAnswering, CancellationToken cancellationToken)
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
            catch (RpcException error) when (error.StatusCode == StatusCode.Unavailable && DateTime.UtcNow + backoff < giveUpAt)
            {
                notAnswering(error.Status.Detail);

                // Full jitter keeps a fleet that lost its daemon from coming back in lockstep.
                var delay = TimeSpan.FromTicks((long)(backoff.Ticks * (0.5 + (Random.Shared.NextDouble() / 2))));
                await Task.Delay(delay, cancellationToken);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.MaxBackoff.Ticks));
            }
        }
    }
}
