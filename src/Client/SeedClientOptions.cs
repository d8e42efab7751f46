using System.Globalization;
using Grpc.Core;

namespace SeedDaemon.Client;

/// <summary>How a <see cref="SeedClient"/> reaches seedd and how patient it is.</summary>
public sealed class SeedClientOptions
{
    public const string DefaultAddress = "http://127.0.0.1:50051";

    /// <summary>http://HOST:PORT (environment SEEDD_ADDRESS).</summary>
    public Uri Address { get; set; } = new(DefaultAddress);

    /// <summary>Bearer token (environment SEEDD_TOKEN) for daemons that require one.</summary>
    public string? Token { get; set; }

    /// <summary>Connect over this Unix domain socket instead of TCP (SEEDD_ADDRESS=unix:/path). <see cref="Address"/> is then ignored.</summary>
    public string? UnixSocketPath { get; set; }

    /// <summary>PEM file of the CA (or self-signed certificate) that the daemon's TLS certificate must chain to, for https addresses outside the system trust store.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>Deadline of each attempt.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long to keep retrying UNAVAILABLE (a daemon restarting, a network blip) before giving up.</summary>
    public TimeSpan RetryTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Sent with every call (metadata x-seedd-client-host, -pid, -labels) and recorded in the
    /// daemon's ledger next to each seed: who asked, from where. At most 16 labels.
    /// </summary>
    public IDictionary<string, string> ClientLabels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Send this machine's name and this process's id with every call. On by default.</summary>
    public bool SendClientInfo { get; set; } = true;

    /// <summary>Re-derive every answer locally with seedseq-v1 and throw on any difference. On by default.</summary>
    public bool VerifyAnswers { get; set; } = true;

    /// <summary>
    /// Options for an address as users write it: http://HOST:PORT, https://..., HOST:PORT (http is
    /// assumed) or unix:/path.sock. Throws <see cref="FormatException"/> for anything else.
    /// </summary>
    public static SeedClientOptions ForAddress(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            return new SeedClientOptions { Address = new Uri("http://localhost"), UnixSocketPath = text["unix:".Length..] };
        }

        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        return Uri.TryCreate(withScheme, UriKind.Absolute, out var uri)
            ? new SeedClientOptions { Address = uri }
            : throw new FormatException($"'{text}' is not an address like http://127.0.0.1:50051 or unix:/run/seedd/seedd.sock.");
    }

    /// <summary>The metadata every call carries: the bearer token, and who is asking (recorded in the daemon's ledger).</summary>
    public Metadata Headers()
    {
        var headers = new Metadata();
        if (!string.IsNullOrEmpty(Token))
        {
            headers.Add("authorization", "Bearer " + Token);
        }

        if (SendClientInfo)
        {
            headers.Add("x-seedd-client-host", Environment.MachineName);
            headers.Add("x-seedd-client-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }

        if (ClientLabels.Count > 0)
        {
            headers.Add("x-seedd-client-labels", string.Join(',', ClientLabels.Select(l => $"{l.Key}={l.Value}")));
        }

        return headers;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (!Address.IsAbsoluteUri || (Address.Scheme != Uri.UriSchemeHttp && Address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Address '{Address}' must be an absolute http:// or https:// URI.", nameof(Address));
        }

        foreach (var (name, value) in new[] { (nameof(CallTimeout), CallTimeout), (nameof(InitialBackoff), InitialBackoff), (nameof(MaxBackoff), MaxBackoff) })
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentException($"{name} must be positive, got {value}.", name);
            }
        }

        if (RetryTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException($"RetryTimeout must not be negative, got {RetryTimeout}.", nameof(RetryTimeout));
        }
    }
}
