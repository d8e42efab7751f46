using System.Globalization;
using System.Net.Sockets;
using System.Text;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Operations;

/// <summary>
/// sd_notify without libsystemd: READY=1 once serving, STOPPING=1 on stop, and WATCHDOG=1 at half
/// of WATCHDOG_USEC while the store's writer is alive. Does nothing when NOTIFY_SOCKET is unset.
/// </summary>
internal sealed partial class SystemdNotifier(ISeedStore store, IHostApplicationLifetime lifetime, ILogger<SystemdNotifier> logger) : BackgroundService
{
    private readonly string? _socket = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");

    public void Notify(string state)
    {
        if (string.IsNullOrEmpty(_socket))
        {
            return;
        }

        try
        {
            // A leading '@' names a socket in the abstract namespace.
            var path = _socket[0] == '@' ? "\0" + _socket[1..] : _socket;
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            socket.Send(Encoding.UTF8.GetBytes(state));
        }
        catch (SocketException error)
        {
            NotifyFailed(logger, state, error);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        lifetime.ApplicationStopping.Register(() => Notify("STOPPING=1"));
        var interval = WatchdogInterval();
        if (interval is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval.Value);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            // A full disk is not a reason to be restarted; a dead writer is.
            if (store.IsRunning)
            {
                Notify("WATCHDOG=1");
            }
        }
    }

    /// <summary>Half of WATCHDOG_USEC, when the watchdog is meant for this process.</summary>
    private static TimeSpan? WatchdogInterval()
    {
        var usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds) || microseconds <= 0)
        {
            return null;
        }

        if (pid is not null && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }

        return TimeSpan.FromMicroseconds(microseconds / 2.0);
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Could not notify systemd ({State})")]
    private static partial void NotifyFailed(ILogger logger, string state, Exception error);
}
