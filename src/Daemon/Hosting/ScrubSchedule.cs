using SeedDaemon.Daemon.Audit;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>The background store check: every <see cref="ScrubOptions.IntervalSeconds"/> (none when 0), findings in the log and /metrics.</summary>
internal sealed class ScrubSchedule(StoreScrub scrub, ScrubOptions options, ILogger<ScrubSchedule> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.IntervalSeconds == 0)
        {
            return;
        }

        var interval = TimeSpan.FromSeconds(options.IntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(interval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }

            ScrubLog.Started(logger, options.IntervalSeconds, options.DutyPercent);
            try
            {
                var summary = await scrub.RunAsync(null, options.DutyPercent, update =>
                {
                    if (update is ScrubUpdate.Finding finding)
                    {
                        ScrubLog.Finding(logger, finding.Experiment, finding.Where, finding.Problem);
                    }

                    return ValueTask.CompletedTask;
                }, stoppingToken);
                var counts = summary.Counts;
                ScrubLog.Completed(logger, summary.Elapsed.TotalSeconds, counts.Documents, counts.Experiments, counts.Events, counts.Seeds, counts.Fingerprints, summary.Findings);
            }
            catch (SeedDaemonException busy) when (busy.Kind == ErrorKind.FailedPrecondition)
            {
                ScrubLog.Skipped(logger);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                ScrubLog.Failed(logger, error);
            }
        }
    }
}
