namespace SeedDaemon.Daemon.Hosting;

internal static partial class HostingLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "seedd {Version} listening on {Addresses}; store {Store}; scheme {Scheme}")]
    public static partial void Listening(ILogger logger, string version, string addresses, string store, string scheme);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "auth on: {Count} bearer tokens ({Roles}); health, reflection and /metrics answer anyone")]
    public static partial void AuthOn(ILogger logger, int count, string roles);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "auth off: no tokens configured, every caller is served anonymously; reachable from {Reach}")]
    public static partial void AuthOff(ILogger logger, string reach);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "ledger checkpoints are signed by {Name} with the key in {Path}{Generated}; verifier key {VerifierKey}")]
    public static partial void LedgerKey(ILogger logger, string name, string path, string generated, string verifierKey);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "generated a new ledger key in {Path}: replicas must sign with one key, so give every replica of this PostgreSQL database that file (--ledger-key FILE, or the systemd credential seedd-ledger-key)")]
    public static partial void LedgerKeyForReplicas(ILogger logger, string path);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "seedd stopping")]
    public static partial void Stopping(ILogger logger);
}
