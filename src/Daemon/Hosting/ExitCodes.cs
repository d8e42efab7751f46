namespace SeedDaemon.Daemon.Hosting;

/// <summary>seedd's exit codes.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int InvalidConfiguration = 2;
    public const int DatabaseUnavailable = 3;
    public const int ListenFailed = 4;
}

/// <summary>The daemon could not start; <see cref="ExitCode"/> says which part failed.</summary>
internal sealed class SeeddStartException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
