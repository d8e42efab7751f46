using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>Where the daemon listens: a TCP host and port, or a Unix domain socket.</summary>
internal sealed record ListenEndpoint(string? Host, IPAddress? Address, int Port, string? UnixSocketPath)
{
    public bool IsUnixSocket => UnixSocketPath is not null;

    /// <summary>Only this machine can connect: loopback addresses, localhost, or a Unix socket.</summary>
    public bool IsLocalOnly => IsUnixSocket || Host == "localhost" || (Address is not null && IPAddress.IsLoopback(Address));

    public static bool TryParse(string? text, [NotNullWhen(true)] out ListenEndpoint? endpoint, out string error)
    {
        endpoint = null;
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "an address is required, e.g. 127.0.0.1:50051 or unix:/run/seedd/seedd.sock.";
            return false;
        }

        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = text["unix:".Length..];
            if (!Path.IsPathFullyQualified(path))
            {
                error = $"'{text}': a Unix socket needs an absolute path, e.g. unix:/run/seedd/seedd.sock.";
                return false;
            }

            endpoint = new ListenEndpoint(null, null, 0, path);
            return true;
        }

        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            error = $"'{text}' is not HOST:PORT (e.g. 127.0.0.1:50051, [::1]:50051, *:50051) or unix:/path.";
            return false;
        }

        var host = text[..colon];
        if (!int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            error = $"'{text}': the port must be a number from 0 to 65535.";
            return false;
        }

        if (host is "localhost")
        {
            endpoint = new ListenEndpoint(host, null, port, null);
            return true;
        }

        if (host is "*")
        {
            endpoint = new ListenEndpoint(host, IPAddress.IPv6Any, port, null);
            return true;
        }

        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (!IPAddress.TryParse(bare, out var address))
        {
            error = $"'{text}': '{host}' is not an IP address, [IPv6 address], localhost or *.";
            return false;
        }

        endpoint = new ListenEndpoint(host, address, port, null);
        return true;
    }

    /// <summary>Parses an address already validated (SeeddOptionsValidator); throws on anything else.</summary>
    public static ListenEndpoint Parse(string text) =>
        TryParse(text, out var endpoint, out var error) ? endpoint : throw new FormatException(error);

    /// <summary>
    /// Both would bind the same TCP port: the same host, a wildcard address on either side, or
    /// loopback on both (localhost and 127.0.0.1 are one). Port 0 picks a free port: never shared.
    /// </summary>
    public bool SharesPortWith(ListenEndpoint other) =>
        !IsUnixSocket && !other.IsUnixSocket && Port != 0 && Port == other.Port
        && (Host == other.Host || IsWildcard || other.IsWildcard || (IsLocalOnly && other.IsLocalOnly));

    private bool IsWildcard => Address is { } address && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any));

    public override string ToString() => IsUnixSocket ? $"unix:{UnixSocketPath}" : $"{Host}:{Port}";
}
