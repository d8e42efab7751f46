using System.Net;
using System.Net.Sockets;

namespace SeedDaemon.Testing;

/// <summary>Loopback ports for tests: one that refuses connections, one that is free now, and one that stays free while a process restarts on it.</summary>
public static class Ports
{
    /// <summary>A port nothing listens on right now (the kernel's pick from its ephemeral range), for a value that is never dialled.</summary>
    public static int Unused()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A loopback port that refuses every connection for as long as the returned holder lives: a
    /// socket bound to it that never listens. Another test's server (listening on port 0) cannot be
    /// given it meanwhile, which a port that was merely free a moment ago does not promise.
    /// </summary>
    public static RefusingPort Refusing()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return new RefusingPort(socket);
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

/// <summary>A bound, never-listening loopback port (see <see cref="Ports.Refusing"/>).</summary>
public sealed class RefusingPort(Socket socket) : IDisposable
{
    public int Port { get; } = ((IPEndPoint)socket.LocalEndPoint!).Port;

    /// <summary>http://127.0.0.1:PORT</summary>
    public string Url => $"http://127.0.0.1:{Port}";

    public void Dispose() => socket.Dispose();
}
