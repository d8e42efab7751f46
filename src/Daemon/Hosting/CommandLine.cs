using System.Reflection;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>seedd's command line: a few flags mapped onto configuration keys.</summary>
internal static class CommandLine
{
    /// <summary>Not an option of the daemon itself: the JSON file --config names, read before everything else.</summary>
    public const string ConfigFileKey = "Seedd:ConfigFile";

    public const string Usage = """
        Usage: seedd [--listen ADDRESS] [--db PATH | --postgres CONNECTION] [--http-listen HOST:PORT] [--ledger-key FILE] [--config FILE]

        Serves deterministic seeds (scheme seedseq-v1) over gRPC and records every seed it issues,
        in an embedded LiteDB file (one seedd) or in PostgreSQL (several seedd replicas).

        Options:
          --listen ADDRESS         gRPC (HTTP/2 cleartext, or TLS when Seedd:Tls is set): HOST:PORT or
                                   unix:/path.sock; default 127.0.0.1:50051 (Seedd:Listen)
          --db PATH                the embedded LiteDB database file, created with its folder when
                                   missing; default ~/.local/share/seedd/seeds.db ($XDG_DATA_HOME),
                                   /var/lib/seedd/seeds.db under the systemd unit (Seedd:Database)
          --postgres CONNECTION    record in PostgreSQL instead: Npgsql keywords
                                   (Host=a,b;Database=seedd;Username=seedd) or postgresql://user@host/db;
                                   keep the password in Seedd:Postgres:ConnectionStringFile or the
                                   environment, not on a command line (Seedd:Postgres:ConnectionString)
          --http-listen HOST:PORT  an HTTP/1.1 listener for REST (/v1/..., gRPC JSON transcoding) and
                                   Prometheus /metrics; off by default (Seedd:HttpListen)
          --ledger-key FILE        the Ed25519 key that signs the ledger's checkpoints, readable by seedd's
                                   user only (replicas share one); default: the systemd credential
                                   seedd-ledger-key, else ledger.key beside the database, generated at
                                   first start (Seedd:Ledger:KeyFile)
          --config FILE            a JSON configuration file (like appsettings.json) read before the
                                   environment and these flags, e.g. /etc/seedd/appsettings.json
          --help                   show this help
          --version                show the version

        Bearer tokens and roles (issuer, auditor, admin) come from Seedd:Auth:Tokens; without tokens
        seedd only listens on loopback or a Unix socket. Other settings (Seedd:MaxBatchKeys,
        Seedd:GroupCommitMaxOperations, Seedd:Tls, Logging:...) come from appsettings.json next to the
        executable, --config, or environment variables (Seedd__Key, e.g. Seedd__Listen).

        Exit codes: 0 stopped cleanly, 1 failed while running, 2 invalid configuration,
        3 database cannot be opened, 4 cannot listen. A refused start changes no file.
        """;

    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["--listen"] = "Seedd:Listen",
        ["--db"] = "Seedd:Database",
        ["--http-listen"] = "Seedd:HttpListen",
        ["--postgres"] = "Seedd:Postgres:ConnectionString",
        ["--ledger-key"] = "Seedd:Ledger:KeyFile",
        ["--config"] = ConfigFileKey,
    };

    public static string Version =>
        typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Returns configuration values, or null when the command was --help or --version (already printed).</summary>
    public static Dictionary<string, string?>? Parse(IReadOnlyList<string> args, TextWriter output)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                output.WriteLine(Usage);
                return null;
            }

            if (arg is "--version")
            {
                output.WriteLine($"seedd {Version}");
                return null;
            }

            var (flag, value) = arg.IndexOf('=', StringComparison.Ordinal) is var eq and > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, null);
            if (!Flags.TryGetValue(flag, out var key))
            {
                throw new SeeddStartException(ExitCodes.InvalidConfiguration, $"unknown argument '{arg}'. Run 'seedd --help'.");
            }

            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    throw new SeeddStartException(ExitCodes.InvalidConfiguration, $"{flag} needs a value. Run 'seedd --help'.");
                }

                value = args[++i];
            }

            settings[key] = value;
        }

        return settings;
    }
}
