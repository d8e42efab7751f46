using Microsoft.Extensions.Logging;

namespace SeedDaemon.Daemon.Issuance;

internal static partial class IssuanceLog
{
    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Created experiment {ExperimentId} (root generated: {RootGenerated})")]
    public static partial void ExperimentCreated(ILogger logger, string experimentId, bool rootGenerated);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Froze experiment {ExperimentId}")]
    public static partial void ExperimentFrozen(ILogger logger, string experimentId);
}
