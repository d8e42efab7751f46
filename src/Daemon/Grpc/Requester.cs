using System.Globalization;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>
/// Who is asking: the peer address, the authenticated principal (once authentication names one),
/// and what the client says about itself in metadata: x-seedd-client-host, x-seedd-client-pid and
/// x-seedd-client-labels ("key=value,key=value"). Recorded with every ledger event.
/// </summary>
internal static class Requester
{
    public const string HostHeader = "x-seedd-client-host";
    public const string PidHeader = "x-seedd-client-pid";
    public const string LabelsHeader = "x-seedd-client-labels";
    public const string PrincipalKey = "seedd.principal";

    private const int MaxHostLength = 255;
    private const int MaxLabels = KeyRules.MaxClientLabels;

    public static RequestOrigin Of(ServerCallContext context)
    {
        var peer = string.IsNullOrEmpty(context.Peer) ? "unknown" : context.Peer;
        var http = context.GetHttpContext();
        var principal = http.Items.TryGetValue(PrincipalKey, out var name) && name is string text ? text : "";

        // Straight from the HTTP/2 headers: context.RequestHeaders would copy them all into a new
        // Metadata on every call.
        var headers = http.Request.Headers;
        var host = Header(headers, HostHeader) ?? "";
        if (host.Length > MaxHostLength || host.Any(char.IsControl))
        {
            throw SeedDaemonException.Invalid("metadata " + HostHeader, $"{HostHeader} must be at most {MaxHostLength} printable characters.");
        }

        long pid = 0;
        if (Header(headers, PidHeader) is { } pidText && !long.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out pid))
        {
            throw SeedDaemonException.Invalid("metadata " + PidHeader, $"{PidHeader} must be a non-negative integer.");
        }

        return new RequestOrigin(principal, peer, host, pid, ParseLabels(Header(headers, LabelsHeader)));
    }

    private static string? Header(IHeaderDictionary headers, string name) =>
        headers.TryGetValue(name, out var values) && values.Count > 0 ? values[0] : null;

    private static Dictionary<string, string> ParseLabels(string? text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(text))
        {
            return labels;
        }

        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = eq > 0 ? pair[..eq] : "";
            var value = eq > 0 ? pair[(eq + 1)..] : "";
            if (!Validation.IsValidLabelKey(key) || value.Length > Validation.MaxLabelValueLength || labels.Count >= MaxLabels)
            {
                throw SeedDaemonException.Invalid("metadata " + LabelsHeader, $"{LabelsHeader} must be at most {MaxLabels} key=value pairs separated by commas, keys matching ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,62}}$ and values of at most 256 characters.");
            }

            labels[key] = value;
        }

        return labels;
    }
}
