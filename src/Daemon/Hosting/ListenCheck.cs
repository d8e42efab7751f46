using System.Net;
using System.Net.Sockets;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>
/// Finds a listener address that is already taken before anything else happens, so that a start
/// refused for it changes no file. (Kestrel still reports a bind that fails later.)
/// </summary>
internal static class ListenCheck
{
    /// <summary>The message for the first taken address, or null when all are free.</summary>
    public static string? FirstTaken(SeeddOptions options)
    {
        foreach (var text in new[] { options.Listen, options.HttpListen })
        {
            if (string.IsNullOrEmpty(text) || !ListenEndpoint.TryParse(text, out var endpoint, out _))
            {
                continue;
            }

            if (Taken(endpoint) is { } reason)
            {
                return $"cannot listen on {text}: {reason}";
            }
        }

        return null;
    }

    private static string? Taken(ListenEndpoint endpoint)
    {
        if (endpoint.IsUnixSocket)
        {
            return File.Exists(endpoint.UnixSocketPath) && Answers(endpoint.UnixSocketPath!) ? $"another process is serving on the socket {endpoint.UnixSocketPath}." : null;
        }

        if (endpoint.Port == 0)
        {
            return null;
        }

        var address = endpoint.Address ?? IPAddress.Loopback;
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                probe.DualMode = true;
            }

            probe.Bind(new IPEndPoint(address, endpoint.Port));
            return null;
        }
        catch (SocketException error) when (error.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return "address already in use (is another seedd running?).";
        }
        catch (SocketException error)
        {
            return error.Message;
        }
    }

    private static bool Answers(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
