namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// The state a batch is planned against when earlier batches are committed but not yet durable: what
/// those batches did (the newest that touched a thing wins) over what the backend holds durably. The embedded backend fsyncs
/// a batch while the next one is planned and written, so the writer never waits for the disk.
/// </summary>
internal sealed class OverlayState(IBatchState durable, IReadOnlyList<PreparedBatch> pending) : IBatchState
{
    public ExperimentState? Experiment(string experimentId)
    {
        for (var i = pending.Count - 1; i >= 0; i--)
        {
            if (pending[i].Experiments.TryGetValue(experimentId, out var changed))
            {
                return changed with { IsNew = false };
            }
        }

        return durable.Experiment(experimentId);
    }

    public KeyState? Key(SeedKey key)
    {
        for (var i = pending.Count - 1; i >= 0; i--)
        {
            if (pending[i].Keys.TryGetValue(key, out var change))
            {
                return change.State;
            }
        }

        return durable.Key(key);
    }

    public ProcessRecord? Process(ProcessKey key)
    {
        for (var i = pending.Count - 1; i >= 0; i--)
        {
            if (pending[i].Processes.TryGetValue(key, out var process))
            {
                return process;
            }
        }

        return durable.Process(key);
    }

    /// <summary>The batches waiting for their fsync are in the file already (committed): the durable state reads them.</summary>
    public void CheckAppend(ProcessKey key, long lastStep, long firstNewStep) => durable.CheckAppend(key, lastStep, firstNewStep);

    public StepFingerprint? Fingerprint(ProcessKey key, long step)
    {
        for (var i = pending.Count - 1; i >= 0; i--)
        {
            if (pending[i].Fingerprints.TryGetValue((key, step), out var fingerprint))
            {
                return fingerprint;
            }
        }

        return durable.Fingerprint(key, step);
    }
}
