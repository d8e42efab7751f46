namespace SeedDaemon.Ctl;

/// <summary>A failure seedctl reports in one line, with its exit code.</summary>
public sealed class CtlException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
