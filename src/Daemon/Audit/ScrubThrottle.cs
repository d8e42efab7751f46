using System.Diagnostics;

namespace SeedDaemon.Daemon.Audit;

/// <summary>
/// Keeps the scrub to a share of the time: after each page, it sleeps so that reading took at most
/// <paramref name="dutyPercent"/>% of the time since the scrub started pausing (100: no sleep).
/// </summary>
internal sealed class ScrubThrottle(int dutyPercent)
{
    private long _since = Stopwatch.GetTimestamp();

    public async ValueTask PauseAsync(CancellationToken cancellationToken)
    {
        var worked = Stopwatch.GetElapsedTime(_since);
        if (dutyPercent < 100)
        {
            var rest = worked * (100 - dutyPercent) / dutyPercent;
            if (rest >= TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(rest, cancellationToken);
            }
        }

        _since = Stopwatch.GetTimestamp();
    }
}
