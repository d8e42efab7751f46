using System.Net;
using System.Net.Sockets;

namespace SeedDaemon.Testing;

/// <summary>Loopback ports for tests: one nothing listens on, and one that stays free while a process restarts on it.</summary>
public static class Ports
{
    /// <summary>A port nothing listens on right now (the kernel's pick from its ephemeral range).</summary>
    public static int Unused()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A free port for a server that must come back on the same port (a restarted seedd, a
    /// PostgreSQL cluster started again). Other tests listen on port 0, which the kernel picks from
    /// the ephemeral range (32768-60999 here): a port below it cannot be taken meanwhile.
    /// </summary>
    public static int UnusedOutsideTheEphemeralRange()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20_000, 32_000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException) when (attempt < 100)
            {
            }
        }
    }
}
