using System.Net.Sockets;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>The Unix-socket listener's file: a stale one from a crashed daemon is removed, a live one is left alone.</summary>
internal static class UnixSocket
{
    public static void RemoveStale(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            // Nobody listens: what is left is the socket file of a daemon that did not stop cleanly.
            File.Delete(path);
        }
    }

    /// <summary>rw for the daemon's user and group (0660): add clients to the group to let them in.</summary>
    public static void RestrictToGroup(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        }
    }
}
