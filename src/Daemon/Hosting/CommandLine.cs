using System.Reflection;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>seedd's command line: a few flags mapped onto configuration keys.</summary>
public static class CommandLine
{
    /// <summary>Not an option of the daemon itself: the JSON file --config names, read before everything else.</summary>
    public const string ConfigFileKey = "Seedd:ConfigFile";

    public const string Usage = """
        Usage: seedd [--listen HOST:PORT | --listen unix:/path.sock] [--db PATH] [--http-listen HOST:PORT] [--config FILE]

        Serves deterministic seeds (scheme seedseq-v1) over gRPC and records every seed it issues.

        Options:
          --listen ADDRESS   where to listen (HTTP/2 cleartext); default 127.0.0.1:50051
                             (configuration key Seedd:Listen, environment Seedd__Listen)
          --db PATH          the LiteDB database file; default ./data/seeds.db
                             (configuration key Seedd:Database, environment Seedd__Database)
          --http-listen ADDR HTTP/1.1 listener for Prometheus /metrics (Seedd:HttpListen); off by default
          --config FILE      a JSON configuration file (like appsettings.json) read before the
                             environment and these flags, e.g. /etc/seedd/appsettings.json
          --help             show this help
          --version          show the version

        Other settings (Seedd:MaxBatchKeys, Seedd:GroupCommitMaxOperations, Logging:...) come from
        appsettings.json next to the executable or from environment variables (Seedd__Key).
        """;

    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["--listen"] = "Seedd:Listen",
        ["--db"] = "Seedd:Database",
        ["--http-listen"] = "Seedd:HttpListen",
        ["--postgres"] = "Seedd:Postgres:ConnectionString",
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
