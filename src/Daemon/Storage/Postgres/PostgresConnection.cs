using System.Globalization;
using Npgsql;

namespace SeedDaemon.Daemon.Storage.Postgres;

/// <summary>
/// The connection string as users write it: Npgsql's keyword format ("Host=a,b;Database=seedd;...")
/// or a libpq/MLflow-style URI ("postgresql://user:password@host:port,host2:port/db?sslmode=require").
/// Passwords never appear in messages: <see cref="Describe"/> leaves them out.
/// </summary>
internal static class PostgresConnection
{
    /// <summary>What is wrong with the connection string, or null. Never echoes the password.</summary>
    public static string? Check(string text)
    {
        try
        {
            var builder = Parse(text);
            return string.IsNullOrWhiteSpace(builder.Host) ? "it names no host (Host=... or postgresql://HOST/...)." : null;
        }
        catch (Exception error) when (error is ArgumentException or FormatException or UriFormatException or KeyNotFoundException)
        {
            return $"it is neither Npgsql's keyword format (Host=...;Database=...;Username=...) nor a postgresql:// URI ({Redact(error.Message, text)}).";
        }
    }

    public static NpgsqlConnectionStringBuilder Parse(string text)
    {
        text = text.Trim();
        return text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            ? FromUri(text)
            : new NpgsqlConnectionStringBuilder(text);
    }

    /// <summary>The most connections one replica opens unless the connection string's <c>Maximum Pool Size</c> says otherwise.</summary>
    public const int DefaultPoolSize = 10;

    /// <summary>
    /// The longest a replica's transaction may wait on the replica itself (between its statements)
    /// before PostgreSQL ends the session and releases its locks. A healthy replica never waits a
    /// millisecond there; a replica that stops inside a commit (a frozen VM, SIGSTOP, a debugger)
    /// would otherwise hold the rows of its experiments, and every other replica would wait on them.
    /// </summary>
    public static readonly TimeSpan IdleInTransactionTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// What seedd sets where the connection string is silent (a value the user gave always wins):
    /// durable commits (synchronous_commit=on: the local flush and, with synchronous_standby_names
    /// set, a standby's); a transaction left waiting on its replica ends after
    /// <see cref="IdleInTransactionTimeout"/> (idle_in_transaction_session_timeout); a pool of <see cref="DefaultPoolSize"/>, not Npgsql's 100 (one replica
    /// writes through one transaction at a time, and a few replicas with 100 each would pass
    /// PostgreSQL's default max_connections of 100); no DISCARD ALL when a connection goes back to
    /// the pool (seedd changes no session state); a 5 s connect timeout, so a dead host is given up
    /// quickly. Statements are not prepared (Max Auto Prepare stays 0): with 32, tests/Bench measured
    /// single-key requests a third slower (batches of 1,000 faster); with PostgreSQL's generic plans
    /// turned off as well, no faster than unprepared.
    /// </summary>
    public static NpgsqlConnectionStringBuilder WithSeeddDefaults(NpgsqlConnectionStringBuilder given)
    {
        var builder = new NpgsqlConnectionStringBuilder(given.ConnectionString);

        // Keys lists what the string set, by canonical name (ContainsKey is true for every keyword Npgsql knows).
        var set = builder.Keys.ToHashSet(StringComparer.OrdinalIgnoreCase);
        SetUnlessGiven(builder, "synchronous_commit", "on");
        SetUnlessGiven(builder, "idle_in_transaction_session_timeout", string.Create(CultureInfo.InvariantCulture, $"{IdleInTransactionTimeout.TotalMilliseconds:0}"));

        builder.ApplicationName ??= "seedd";
        if (!set.Contains("Maximum Pool Size"))
        {
            builder.MaxPoolSize = DefaultPoolSize;
        }

        if (!set.Contains("No Reset On Close"))
        {
            builder.NoResetOnClose = true;
        }

        if (!set.Contains("Timeout"))
        {
            builder.Timeout = 5;
        }

        return builder;
    }

    /// <summary>Adds "-c setting=value" to the session options unless the user's options name the setting.</summary>
    private static void SetUnlessGiven(NpgsqlConnectionStringBuilder builder, string setting, string value)
    {
        if (builder.Options?.Contains(setting, StringComparison.OrdinalIgnoreCase) != true)
        {
            builder.Options = $"{builder.Options} -c {setting}={value}".Trim();
        }
    }

    /// <summary>"PostgreSQL host=a:5432,b:5432 database=seedd user=seedd": for logs and messages.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        $"PostgreSQL host={builder.Host}{(builder.Host?.Contains(':', StringComparison.Ordinal) == true ? "" : ":" + builder.Port.ToString(CultureInfo.InvariantCulture))} database={builder.Database ?? "(default)"} user={builder.Username ?? "(default)"}";

    private static NpgsqlConnectionStringBuilder FromUri(string text)
    {
        // postgresql://[user[:password]@][host[:port][,host[:port]...]][/database][?key=value&...]
        var rest = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var builder = new NpgsqlConnectionStringBuilder();
        var authorityEnd = rest.IndexOfAny(['/', '?']);
        var at = rest.Length == 0 ? -1 : rest.LastIndexOf('@', authorityEnd >= 0 ? authorityEnd : rest.Length - 1);
        if (at >= 0)
        {
            var credentials = rest[..at];
            var colon = credentials.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Uri.UnescapeDataString(colon >= 0 ? credentials[..colon] : credentials);
            if (colon >= 0)
            {
                builder.Password = Uri.UnescapeDataString(credentials[(colon + 1)..]);
            }

            rest = rest[(at + 1)..];
        }

        var q = rest.IndexOf('?', StringComparison.Ordinal);
        var query = q >= 0 ? rest[(q + 1)..] : "";
        rest = q >= 0 ? rest[..q] : rest;
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var hosts = slash >= 0 ? rest[..slash] : rest;
        if (slash >= 0 && rest.Length > slash + 1)
        {
            builder.Database = Uri.UnescapeDataString(rest[(slash + 1)..]);
        }

        if (hosts.Length > 0)
        {
            builder.Host = Uri.UnescapeDataString(hosts);
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq >= 0 ? pair[..eq] : pair);
            var value = Uri.UnescapeDataString(eq >= 0 ? pair[(eq + 1)..] : "");
            builder[UriKeywords.GetValueOrDefault(key, key)] = value;
        }

        return builder;
    }

    // libpq's URI parameter names, as Npgsql calls them.
    private static readonly Dictionary<string, string> UriKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["target_session_attrs"] = "Target Session Attributes",
        ["application_name"] = "Application Name",
        ["connect_timeout"] = "Timeout",
        ["options"] = "Options",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["user"] = "Username",
        ["password"] = "Password",
        ["dbname"] = "Database",
        ["host"] = "Host",
        ["port"] = "Port",
    };

    private static string Redact(string message, string text)
    {
        var password = "";
        try
        {
            password = new NpgsqlConnectionStringBuilder { ConnectionString = text }.Password ?? "";
        }
        catch (ArgumentException)
        {
            // Not parsable at all: the message names the bad keyword, not a value.
        }

        return password.Length > 0 ? message.Replace(password, "***", StringComparison.Ordinal) : message;
    }
}
