namespace SeedDaemon.Daemon.Storage.Postgres;

internal static partial class PostgresLog
{
    [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "{Location}: schema version {Version} ready (found {Found})")]
    public static partial void SchemaReady(ILogger logger, string location, int found, int version);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "{Location} is not reachable ({Reason}); serving NOT_SERVING and reconnecting every second")]
    public static partial void Unreachable(ILogger logger, string location, string reason);

    [LoggerMessage(EventId = 122, Level = LogLevel.Warning, Message = "{Location} is reachable again; serving")]
    public static partial void Reachable(ILogger logger, string location);

    [LoggerMessage(EventId = 123, Level = LogLevel.Debug, Message = "Group commit attempt {Attempt} lost a race with another replica ({Reason}); planning it again")]
    public static partial void Retrying(ILogger logger, int attempt, string reason);

    [LoggerMessage(EventId = 124, Level = LogLevel.Warning, Message = "{Location}: reconnecting failed ({Reason})")]
    public static partial void ProbeFailed(ILogger logger, string location, string reason);

    [LoggerMessage(EventId = 125, Level = LogLevel.Information, Message = "This replica ({Identity}) is the ledger's sequencer now (epoch {Epoch})")]
    public static partial void LeaseTaken(ILogger logger, string identity, long epoch);

    [LoggerMessage(EventId = 126, Level = LogLevel.Warning, Message = "This replica ({Identity}) lost the sequencer's lease to another replica (it paused or could not renew it in time); it placed nothing since")]
    public static partial void LeaseLost(ILogger logger, string identity);

    [LoggerMessage(EventId = 127, Level = LogLevel.Warning, Message = "The sequencer failed at {Step} ({Reason}); nothing was placed, trying again")]
    public static partial void SequencerFailed(ILogger logger, string step, string reason);

    [LoggerMessage(EventId = 128, Level = LogLevel.Error, Message = "The entries of experiment '{ExperimentId}' cannot be placed in its log: {Reason}. They stay pending (the other experiments go on); trying again in {Seconds} s. Run seedctl store check.")]
    public static partial void ExperimentHeldBack(ILogger logger, string experimentId, string reason, double seconds);

    [LoggerMessage(EventId = 129, Level = LogLevel.Warning, Message = "Ended PostgreSQL session {Pid} (application '{Application}'): it held the sequencer's lease row {Seconds:0} s past the lease while waiting to send its client a round's rows (its replica stopped reading: paused or hung); another replica can take the lease now")]
    public static partial void StuckHolderEnded(ILogger logger, int pid, string application, double seconds);
}
