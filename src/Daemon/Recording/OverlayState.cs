namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// The state a batch is planned against when earlier batches are committed but not yet durable: what
/// those batches did (newest first) over what the backend holds durably. The embedded backend fsyncs
/// a batch while the next one is planned and written, so the writer never waits for the disk.
/// </summary>
public sealed class OverlayState(IBatchState durable, IReadOnlyList<PreparedBatch> pending) : IBatchState
{
    public ExperimentState? Experiment(string experimentId)
    {
        var stored = durable.Experiment(experimentId);
        var record = stored?.Record;
        var head = stored?.Head;
        foreach (var batch in pending)
        {
            if (batch.CreatedExperiments.Find(e => e.Id == experimentId) is { } created)
            {
                record = created;
                head = ChainHead.Genesis;
            }

            if (record is not null && batch.FrozenExperiments.Contains(experimentId))
            {
                record = record with { Frozen = true };
            }

            if (batch.Appends.Find(a => a.ExperimentId == experimentId) is { } append)
            {
                head = append.After;
            }
        }

        return record is null ? null : new ExperimentState(record, head!.Value);
    }

    public KeyState? Key(string experimentId, uint worker, string library, string stream)
    {
        for (var i = pending.Count - 1; i >= 0; i--)
        {
            if (pending[i].KeysByKey.TryGetValue((experimentId, worker, library, stream), out var change))
            {
                return change.State;
            }
        }

        return durable.Key(experimentId, worker, library, stream);
    }
}
