using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// Finds a fingerprint document that a damaged index lost, while a run's fingerprints are read in
/// (step, worker) order from the position (<paramref name="fromStep"/>, <paramref name="fromWorker"/>)
/// on: each document names its process's step before it, which must be the one read last for that
/// process (or lie before the range), and at the end of the range every process's last durable step
/// at or after the start must have been read.
/// </summary>
internal sealed class StepLinks(long fromStep, uint fromWorker)
{
    private readonly Dictionary<uint, long> _last = [];

    /// <summary>Whether the worker's step lies at or after the range's start in (step, worker) order.</summary>
    private bool InRange(long step, uint worker) => step > fromStep || (step == fromStep && worker >= fromWorker);

    public void Saw(FingerprintRecord record, long previousStep)
    {
        var worker = record.Key.Worker;
        var found = _last.TryGetValue(worker, out var last);
        if (found ? previousStep != last : InRange(previousStep, worker))
        {
            throw DocumentSeal.Damaged(
                RunDocuments.Fingerprints,
                RunDocuments.FingerprintId(record.Key, record.Fingerprint.Step),
                $"it follows step {previousStep} of worker {worker}, and the step read before it was {(found ? last : "none")}: a fingerprint between them is missing");
        }

        _last[worker] = record.Fingerprint.Step;
    }

    /// <summary>At the end of the range: each process's fingerprints were read up to its last durable step.</summary>
    public void End(IEnumerable<ProcessRecord> processes)
    {
        foreach (var process in processes.Where(p => InRange(p.LastStep, p.Key.Worker)))
        {
            if (!_last.TryGetValue(process.Key.Worker, out var last) || last < process.LastStep)
            {
                throw DocumentSeal.Damaged(
                    RunDocuments.Fingerprints,
                    RunDocuments.FingerprintId(process.Key, process.LastStep),
                    $"it is missing: worker {process.Key.Worker} of run '{process.Key.RunId}' last reported step {process.LastStep}, and its fingerprints read end at {(_last.ContainsKey(process.Key.Worker) ? last : "none")}");
            }
        }
    }
}
