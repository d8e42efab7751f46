using Microsoft.Extensions.Options;
using SeedDaemon.Daemon.Security;
using SeedDaemon.Daemon.Storage.Postgres;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>Checks the options at start; each failure names its configuration key.</summary>
internal sealed class SeeddOptionsValidator : IValidateOptions<SeeddOptions>
{
    public ValidateOptionsResult Validate(string? name, SeeddOptions options)
    {
        var failures = new List<string>();

        // REST serves every call gRPC does, admin ones included: one rule for both listeners.
        void RequireTokensIfReachable(string setting, string address, ListenEndpoint listener)
        {
            if (!listener.IsLocalOnly && options.Auth.Tokens.Count == 0 && !options.Auth.AllowAnonymous)
            {
                failures.Add($"{setting} is {address}, which other machines can reach, and no tokens are configured (Seedd:Auth:Tokens). Configure tokens, or set Seedd:Auth:AllowAnonymous=true to serve anonymously on purpose.");
            }
        }

        if (!ListenEndpoint.TryParse(options.Listen, out var endpoint, out var listenError))
        {
            failures.Add($"Seedd:Listen (--listen): {listenError}");
        }
        else
        {
            RequireTokensIfReachable("Seedd:Listen (--listen)", options.Listen, endpoint);
        }

        ListenEndpoint? http = null;
        if (!string.IsNullOrEmpty(options.HttpListen) && (!ListenEndpoint.TryParse(options.HttpListen, out http, out _) || http.IsUnixSocket))
        {
            failures.Add($"Seedd:HttpListen (--http-listen): '{options.HttpListen}' must be HOST:PORT.");
        }
        else if (http is not null && endpoint is not null && http.SharesPortWith(endpoint))
        {
            // Found here, not by the second bind after the database was opened.
            failures.Add($"Seedd:HttpListen (--http-listen) is {options.HttpListen}, the port gRPC listens on (Seedd:Listen, {options.Listen}): give REST a port of its own.");
        }
        else if (http is not null)
        {
            RequireTokensIfReachable("Seedd:HttpListen (--http-listen)", options.HttpListen!, http);
        }

        if (options.LogFormat is not ("plain" or "json"))
        {
            failures.Add($"Seedd:LogFormat: must be plain or json, got '{options.LogFormat}'.");
        }

        if (options.MaxMessageBytes is < 1024 or > 64 * 1024 * 1024)
        {
            failures.Add($"Seedd:MaxMessageBytes: must be between 1024 and 67108864, got {options.MaxMessageBytes}.");
        }

        ValidateTokens(options.Auth.Tokens, failures);
        if (options.Tls.Enabled && (string.IsNullOrEmpty(options.Tls.KeyPath) || !File.Exists(options.Tls.CertificatePath) || !File.Exists(options.Tls.KeyPath)))
        {
            failures.Add($"Seedd:Tls: CertificatePath ({options.Tls.CertificatePath}) and KeyPath ({options.Tls.KeyPath}) must both name existing PEM files.");
        }

        if (options.UsesPostgres && !string.IsNullOrWhiteSpace(options.Database))
        {
            failures.Add("Seedd:Database (--db) and Seedd:Postgres:ConnectionString (--postgres) both name a store: seedd uses one, the embedded LiteDB file or PostgreSQL. Give only one of them.");
        }

        if (options.UsesPostgres && PostgresConnection.Check(options.Postgres.ConnectionString!) is { } connectionError)
        {
            failures.Add($"Seedd:Postgres:ConnectionString (--postgres): {connectionError}");
        }

        if (options.MaxBatchKeys is < 1 or > 1_000_000)
        {
            failures.Add($"Seedd:MaxBatchKeys: must be between 1 and 1000000, got {options.MaxBatchKeys}.");
        }

        if (options.Scrub.IntervalSeconds is < 0 or > 2_592_000)
        {
            failures.Add($"Seedd:Scrub:IntervalSeconds: must be between 0 (no background store check) and 2592000 (30 days), got {options.Scrub.IntervalSeconds}.");
        }

        if (options.Ledger.Name is { } keyName && (keyName.Length == 0 || keyName.Contains('+') || keyName.Any(char.IsWhiteSpace)))
        {
            failures.Add($"Seedd:Ledger:Name: a signed-note key name is not empty and holds no '+' or white space, got '{keyName}'.");
        }

        if (options.Scrub.DutyPercent is < 1 or > 100)
        {
            failures.Add($"Seedd:Scrub:DutyPercent: must be between 1 and 100 (the share of the time a store check may spend reading), got {options.Scrub.DutyPercent}.");
        }

        if (options.GroupCommitMaxOperations is < 1 or > 65_536)
        {
            failures.Add($"Seedd:GroupCommitMaxOperations: must be between 1 and 65536, got {options.GroupCommitMaxOperations}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateTokens(List<TokenOptions> tokens, List<string> failures)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var key = $"Seedd:Auth:Tokens:{i}";
            if (string.IsNullOrWhiteSpace(token.Name) || token.Name.Length > 64 || token.Name.Any(char.IsControl) || !names.Add(token.Name))
            {
                failures.Add($"{key}:Name: a unique name of at most 64 printable characters is required, got '{token.Name}'.");
            }

            if (!Roles.All.Contains(token.Role))
            {
                failures.Add($"{key}:Role: must be issuer, auditor or admin, got '{token.Role}'.");
            }

            if (token.Sha256.Length != 64 || !token.Sha256.All(char.IsAsciiHexDigit))
            {
                var pastedWithDash = token.Sha256.EndsWith(" -", StringComparison.Ordinal) && token.Sha256.Split(' ')[0] is { Length: 64 } digits && digits.All(char.IsAsciiHexDigit);
                failures.Add(pastedWithDash
                    ? $"{key}:Sha256: '{token.Sha256}' is sha256sum's whole line; keep only the 64 hex digits before the spaces (printf %s \"$TOKEN\" | sha256sum | cut -d' ' -f1)."
                    : $"{key}:Sha256: must be the 64-hex-digit SHA-256 of the token (printf %s \"$TOKEN\" | sha256sum | cut -d' ' -f1), not the token itself.");
            }
        }
    }
}
