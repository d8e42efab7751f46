namespace SeedDaemon.Testing;

/// <summary>Waiting for something counted or observed, not for a fixed time: the suite's assemblies share the machine's cores.</summary>
public static class Poll
{
    /// <summary>Checks <paramref name="done"/> every <paramref name="interval"/> (50 ms) until it holds or <paramref name="timeout"/> passes; the caller asserts what it waited for.</summary>
    public static async Task UntilAsync(Func<bool> done, TimeSpan timeout, TimeSpan? interval = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!done() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>Checks <paramref name="done"/>, which asks something (a database, a server), every 200 ms; throws naming <paramref name="what"/> when it does not hold within <paramref name="timeout"/>.</summary>
    public static async Task ForAsync(Func<Task<bool>> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await done())
        {
            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}");
            }

            await Task.Delay(200);
        }
    }
}
