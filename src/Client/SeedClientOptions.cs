using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using SeedDaemon.Derivation;

namespace SeedDaemon.Client;

/// <summary>How a <see cref="SeedClient"/> reaches seedd and how patient it is.</summary>
public sealed class SeedClientOptions
{
    public const string DefaultAddress = "http://127.0.0.1:50051";

    /// <summary>http://HOST:PORT or https://HOST:PORT (environment SEEDD_ADDRESS); dns:///NAME:PORT to use every address the name resolves to.</summary>
    public Uri Address { get; set; } = new(DefaultAddress);

    /// <summary>
    /// Several replicas of one seedd deployment (SEEDD_ADDRESS=http://a:50051,http://b:50051): calls
    /// are spread over them (round robin) and go on when one dies: a call that hits a dead replica
    /// fails UNAVAILABLE and is retried on another. When empty, <see cref="Address"/> alone.
    /// </summary>
    public IList<Uri> Addresses { get; } = new List<Uri>();

    /// <summary>Bearer token (environment SEEDD_TOKEN) for daemons that require one.</summary>
    public string? Token { get; set; }

    /// <summary>Connect over this Unix domain socket instead of TCP (SEEDD_ADDRESS=unix:/path). <see cref="Address"/> is then ignored.</summary>
    public string? UnixSocketPath { get; set; }

    /// <summary>PEM file of the CA (or self-signed certificate) that the daemon's TLS certificate must chain to, for https addresses outside the system trust store.</summary>
    public string? CaCertificatePath { get; set; }

    /// <summary>Deadline of each attempt.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long to keep retrying UNAVAILABLE (a daemon restarting, a network blip) and attempts past their <see cref="CallTimeout"/> (a hung daemon) before giving up (environment SEEDD_RETRY_TIMEOUT, seconds).</summary>
    public TimeSpan RetryTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long opening a connection may take; a daemon behind a dropped route fails this fast instead of at the call's deadline.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Where the client says that seedd is not answering and it is retrying (once per outage). Standard error when unset.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>Where calls go: <see cref="Addresses"/> when any are listed, else <see cref="Address"/>.</summary>
    public IReadOnlyList<Uri> Targets => Addresses.Count > 0 ? [.. Addresses] : [Address];

    /// <summary>Several replicas (listed, or a dns:/// name that may resolve to several): calls are balanced round robin over them.</summary>
    public bool IsBalanced => UnixSocketPath is null && (Targets.Count > 1 || Targets[0].Scheme == "dns");

    /// <summary>The daemon address(es), as messages name them.</summary>
    public string Describe() =>
        UnixSocketPath is { } socket ? "unix:" + socket : string.Join(',', Targets.Select(a => a.ToString().TrimEnd('/')));

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Sent with every call (metadata x-seedd-client-host, -pid, -labels) and recorded in the
    /// daemon's ledger next to each seed: who asked, from where. At most 16 labels; keys as the
    /// daemon's (^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$), values of at most 256 printable ASCII
    /// characters without commas or surrounding spaces (they travel as one "key=value,..." header).
    /// </summary>
    public IDictionary<string, string> ClientLabels { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Send this machine's name and this process's id with every call. On by default.</summary>
    public bool SendClientInfo { get; set; } = true;

    /// <summary>Re-derive every answer locally with seedseq-v1 and throw on any difference. On by default.</summary>
    public bool VerifyAnswers { get; set; } = true;

    /// <summary>The deployment's ledger verifier key (signed-note format), pinned: checkpoints and proofs are verified with it rather than with the key the daemon serves.</summary>
    public string? LedgerKey { get; set; }

    /// <summary>Most keys one BatchGetSeeds call carries: the daemon's Seedd:MaxBatchKeys (10,000 by default). <see cref="SeedClient.GetSeedsAsync"/> splits larger lists.</summary>
    public int MaxBatchKeys { get; set; } = 10_000;

    /// <summary>Largest request the daemon accepts: its Seedd:MaxMessageBytes (1 MiB by default). <see cref="SeedClient.GetSeedsAsync"/> keeps each call below it.</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// Options for an address as users write it: http://HOST:PORT, https://..., HOST:PORT (http is
    /// assumed), dns:///NAME:PORT, unix:/path.sock, or several HTTP addresses separated by commas.
    /// Throws <see cref="FormatException"/> for anything else.
    /// </summary>
    public static SeedClientOptions ForAddress(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        if (text.StartsWith("unix:", StringComparison.Ordinal))
        {
            return new SeedClientOptions { Address = new Uri("http://localhost"), UnixSocketPath = text["unix:".Length..] };
        }

        var addresses = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Parse).ToList();
        if (addresses.Count == 0)
        {
            throw new FormatException($"'{text}' is not an address like http://127.0.0.1:50051 or unix:/run/seedd/seedd.sock.");
        }

        var options = new SeedClientOptions { Address = addresses[0] };
        if (addresses.Count > 1)
        {
            foreach (var address in addresses)
            {
                options.Addresses.Add(address);
            }
        }

        return options;

        static Uri Parse(string one)
        {
            var withScheme = one.Contains("://", StringComparison.Ordinal) ? one : "http://" + one;
            return Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "dns"
                ? uri
                : throw new FormatException($"'{one}' is not an address like http://127.0.0.1:50051, dns:///seedd.internal:50051 or unix:/run/seedd/seedd.sock.");
        }
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
        if (Addresses.Count > 0 && Address != new Uri(DefaultAddress) && !Addresses.Contains(Address))
        {
            throw new ArgumentException($"Address ({Address}) is set and is not among Addresses ({Describe()}), which calls would go to; set Address for one daemon or Addresses for several.", nameof(Address));
        }

        foreach (var address in Targets)
        {
            if (!address.IsAbsoluteUri || address.Scheme is not ("http" or "https" or "dns"))
            {
                throw new ArgumentException($"Address '{address}' must be an absolute http://, https:// or dns:/// URI.", nameof(Address));
            }
        }

        if (Addresses.Select(a => a.Scheme).Distinct().Count() > 1 || (Addresses.Count > 1 && Addresses.Any(a => a.Scheme == "dns")))
        {
            throw new ArgumentException($"Addresses ({Describe()}) must all be http:// or all be https:// (one dns:/// name alone).", nameof(Addresses));
        }

        foreach (var (name, value) in new[] { (nameof(CallTimeout), CallTimeout), (nameof(InitialBackoff), InitialBackoff), (nameof(MaxBackoff), MaxBackoff), (nameof(ConnectTimeout), ConnectTimeout) })
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

        if (MaxBatchKeys < 1 || MaxMessageBytes < 1024)
        {
            throw new ArgumentException($"MaxBatchKeys must be at least 1 and MaxMessageBytes at least 1024, got {MaxBatchKeys} and {MaxMessageBytes}.", MaxBatchKeys < 1 ? nameof(MaxBatchKeys) : nameof(MaxMessageBytes));
        }

        ValidateClientLabels();
    }

    /// <summary>What one x-seedd-client-labels header carries unchanged; anything else would be recorded split or trimmed, or fail every call.</summary>
    private void ValidateClientLabels()
    {
        if (ClientLabels.Count > KeyRules.MaxClientLabels)
        {
            throw new ArgumentException($"ClientLabels holds {ClientLabels.Count} labels; the daemon records at most {KeyRules.MaxClientLabels}.", nameof(ClientLabels));
        }

        foreach (var (key, value) in ClientLabels)
        {
            if (!KeyRules.IsValidLabelKey(key))
            {
                throw new ArgumentException($"Client label key '{key}' must match ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,62}}$.", nameof(ClientLabels));
            }

            if (value.Length > KeyRules.MaxLabelValueLength || value.Trim() != value || value.Any(c => c is < ' ' or > '~' or ','))
            {
                throw new ArgumentException($"Client label '{key}' has the value '{value}': a value is at most {KeyRules.MaxLabelValueLength} printable ASCII characters, without commas or leading or trailing spaces (labels travel as one key=value,... header).", nameof(ClientLabels));
            }
        }
    }
}
