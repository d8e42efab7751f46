using System.Runtime.CompilerServices;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Runs;

/// <summary>Runs: records processes and their fingerprints, and answers what was recorded.</summary>
internal sealed class RunRecorder(ISeedStore store)
{
    /// <summary>Steps in a message of StreamFingerprints.</summary>
    private const int ChunkSize = 1024;

    public Task<ProcessRecord> RecordProcessAsync(ProcessKey key, IReadOnlyDictionary<string, string> environment, ResumePoint? resumedFrom, CancellationToken cancellationToken)
    {
        RunValidation.Environment(environment);
        if (resumedFrom is not null)
        {
            RunValidation.RunId(resumedFrom.RunId, "resumed_from.run_id");
            RunValidation.Step(resumedFrom.Step, "resumed_from.step");
        }

        var candidate = ProcessRecord.New(key, new Dictionary<string, string>(environment, StringComparer.Ordinal), resumedFrom, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        return store.RecordProcessAsync(candidate, cancellationToken);
    }

    public Task<FingerprintReceipt> ReportAsync(ProcessKey key, IReadOnlyList<StepFingerprint> steps, CancellationToken cancellationToken)
    {
        RunValidation.Steps(steps);
        return store.ReportFingerprintsAsync(key, steps, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), cancellationToken);
    }

    public async Task<StepFingerprint> GetFingerprintAsync(ProcessKey key, long step, CancellationToken cancellationToken)
    {
        RunValidation.Step(step, "step");
        await ExperimentAsync(key.ExperimentId, cancellationToken);
        return await store.Reader.FindFingerprintAsync(key, step, cancellationToken)
            ?? throw new SeedDaemonException(ErrorKind.NotFound, $"worker {key.Worker} of run '{key.RunId}' of experiment '{key.ExperimentId}' has no fingerprint at step {step}.", "step");
    }

    public async Task<IReadOnlyList<RunSummary>> ListRunsAsync(string experimentId, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        await ExperimentAsync(experimentId, cancellationToken);
        return RunSummary.Of(await store.Reader.ListProcessesAsync(experimentId, null, cancellationToken));
    }

    public async Task<(RunSummary Summary, IReadOnlyList<ProcessRecord> Processes)> GetRunAsync(string experimentId, string runId, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        RunValidation.RunId(runId);
        await ExperimentAsync(experimentId, cancellationToken);
        var processes = await store.Reader.ListProcessesAsync(experimentId, runId, cancellationToken);
        return processes.Count == 0
            ? throw RunNotFound(experimentId, runId)
            : (RunSummary.Of(processes)[0], processes);
    }

    /// <summary>A run's fingerprints in (step, worker) order, a chunk at a time (memory stays bounded).</summary>
    public async IAsyncEnumerable<IReadOnlyList<FingerprintRecord>> FingerprintsAsync(string experimentId, string runId, long fromStep, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        RunValidation.Step(fromStep, "from_step");
        _ = await GetRunAsync(experimentId, runId, cancellationToken);
        await foreach (var page in store.Reader.FingerprintPagesAsync(experimentId, runId, fromStep, ChunkSize, cancellationToken))
        {
            // A store may end a page past the size asked for (at the end of a row of blocks).
            if (page.Count <= ChunkSize)
            {
                yield return page;
                continue;
            }

            foreach (var chunk in page.Chunk(ChunkSize))
            {
                yield return chunk;
            }
        }
    }

    private async Task ExperimentAsync(string experimentId, CancellationToken cancellationToken) =>
        _ = await store.Reader.FindExperimentAsync(experimentId, cancellationToken) ?? throw SeedDaemonException.ExperimentNotFound(experimentId);

    private static SeedDaemonException RunNotFound(string experimentId, string runId) =>
        new(ErrorKind.NotFound, $"Experiment '{experimentId}' has no run '{runId}': no process of it recorded anything. 'seedctl runs list {experimentId}' lists its runs.", "run_id");
}
