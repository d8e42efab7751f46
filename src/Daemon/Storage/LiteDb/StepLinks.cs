using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// Finds a block of fingerprints that a damaged index lost, while a run's blocks are read in
/// (block, worker) order from row <paramref name="fromBlock"/> on: each block names its process's
/// step before it, which must be the last step of the block read before it for that process (or
/// lie before the range), and at the end of the range every process's last durable step at or
/// after the start must have been read.
/// </summary>
internal sealed class StepLinks(long fromBlock)
{
    private readonly Dictionary<uint, long> _last = [];

    private readonly long _fromStep = fromBlock * FingerprintBlocks.Steps;

    public void Saw(FingerprintBlocks.Block block)
    {
        var worker = block.Key.Worker;
        var found = _last.TryGetValue(worker, out var last);
        if (found ? block.PreviousStep != last : block.PreviousStep >= _fromStep)
        {
            throw DocumentSeal.Damaged(
                FingerprintBlocks.Collection,
                block.Id,
                $"it follows step {block.PreviousStep} of worker {worker}, and the step read before it was {(found ? last : "none")}: a block of fingerprints between them is missing");
        }

        _last[worker] = block.Steps[^1].Step;
    }

    /// <summary>At the end of the range: each process's fingerprints were read up to its last durable step.</summary>
    public void End(IEnumerable<ProcessRecord> processes)
    {
        foreach (var process in processes.Where(p => p.LastStep >= _fromStep))
        {
            if (!_last.TryGetValue(process.Key.Worker, out var last) || last < process.LastStep)
            {
                throw DocumentSeal.Damaged(
                    FingerprintBlocks.Collection,
                    FingerprintBlocks.Id(process.Key, FingerprintBlocks.Of(process.LastStep)),
                    $"it is missing: worker {process.Key.Worker} of run '{process.Key.RunId}' last reported step {process.LastStep}, and its fingerprints read end at {(_last.ContainsKey(process.Key.Worker) ? last : "none")}");
            }
        }
    }
}
