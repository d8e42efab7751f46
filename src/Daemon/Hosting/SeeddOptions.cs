using SeedDaemon.Daemon.Audit;
using SeedDaemon.Daemon.Security;
using SeedDaemon.Daemon.Transparency;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>Configuration section "Seedd" (appsettings, environment <c>Seedd__Key</c>, or command line).</summary>
internal sealed class SeeddOptions
{
    public const string SectionName = "Seedd";

    /// <summary>HOST:PORT (IPv4, [IPv6], localhost or *) or unix:/path/to.sock. HTTP/2 only.</summary>
    public string Listen { get; set; } = "127.0.0.1:50051";

    /// <summary>HOST:PORT of an HTTP/1.1 listener for /metrics (Prometheus); none when empty.</summary>
    public string? HttpListen { get; set; }

    /// <summary>plain (default; journald's format under systemd) or json (one JSON object per line).</summary>
    public string LogFormat { get; set; } = "plain";

    /// <summary>
    /// The LiteDB file (embedded store); created with its folder when missing. When not set (and
    /// PostgreSQL is not configured), the same file whatever directory seedd starts from:
    /// <see cref="DatabaseLocation.Default"/>.
    /// </summary>
    public string? Database { get; set; }

    /// <summary>The replicated store: several seedd replicas over one PostgreSQL database.</summary>
    public PostgresOptions Postgres { get; set; } = new();

    public bool UsesPostgres => !string.IsNullOrWhiteSpace(Postgres.ConnectionString);

    /// <summary>Most keys one BatchGetSeeds call may ask for.</summary>
    public int MaxBatchKeys { get; set; } = 10_000;

    /// <summary>Most requests that share one group commit (one transaction, one fsync).</summary>
    public int GroupCommitMaxOperations { get; set; } = 512;

    /// <summary>Largest request message accepted; larger ones are RESOURCE_EXHAUSTED.</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    public AuthOptions Auth { get; set; } = new();

    public TlsOptions Tls { get; set; } = new();

    public ScrubOptions Scrub { get; set; } = new();

    public LedgerOptions Ledger { get; set; } = new();
}

/// <summary>Section "Seedd:Postgres".</summary>
internal sealed class PostgresOptions
{
    /// <summary>Npgsql keyword format (Host=a,b;Database=seedd;Username=seedd;Password=...) or a postgresql://user@host:port/db URI.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>A file holding the connection string (systemd credentials, a secret mount), read at start instead of ConnectionString.</summary>
    public string? ConnectionStringFile { get; set; }
}

