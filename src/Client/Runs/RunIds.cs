using System.Globalization;
using System.Security.Cryptography;

namespace SeedDaemon.Client;

/// <summary>Where a process finds its run id, in the same order as seedd_client (docs/runs.md, "The run id").</summary>
public static class RunIds
{
    public const string RunVariable = "SEEDD_RUN";
    public const string Generated = "generated";

    /// <summary>
    /// (run id, where it came from): SEEDD_RUN, else torchrun's TORCHELASTIC_RUN_ID (not "none"), else
    /// Slurm's SLURM_JOB_ID (with SLURM_ARRAY_TASK_ID). Several processes (WORLD_SIZE above 1) with none
    /// of them is an error; a single process generates one.
    /// </summary>
    public static (string RunId, string Source) FromEnvironment(IReadOnlyDictionary<string, string?>? environment = null, int? worldSize = null)
    {
        string? Read(string name) => (environment is null ? Environment.GetEnvironmentVariable(name) : environment.GetValueOrDefault(name))?.Trim() is { Length: > 0 } value ? value : null;

        if (Read(RunVariable) is { } run)
        {
            return (run, RunVariable);
        }

        // An elastic restart or a requeued job runs the steps since its checkpoint again: a run of its own.
        string Restarted(string id, string variable) =>
            int.TryParse(Read(variable), NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0 ? $"{id}-restart-{count}" : id;

        if (Read("TORCHELASTIC_RUN_ID") is { } torchrun && torchrun != "none")
        {
            return (Restarted(torchrun, "TORCHELASTIC_RESTART_COUNT"), "TORCHELASTIC_RUN_ID");
        }

        if (Read("SLURM_JOB_ID") is { } job)
        {
            return (Restarted(Read("SLURM_ARRAY_TASK_ID") is { } task ? $"slurm-{job}-{task}" : $"slurm-{job}", "SLURM_RESTART_COUNT"), "SLURM_JOB_ID");
        }

        worldSize ??= int.TryParse(Read("WORLD_SIZE"), NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : 1;
        if (worldSize > 1)
        {
            throw new InvalidOperationException(
                $"WORLD_SIZE is {worldSize} but no run id is set: the processes of one launch must share it. Set {RunVariable} to the same value in every process (a job name, a date), or launch with torchrun (TORCHELASTIC_RUN_ID) or Slurm (SLURM_JOB_ID).");
        }

        var generated = DateTime.UtcNow.ToString("'run-'yyyyMMdd'T'HHmmss'Z-'", CultureInfo.InvariantCulture) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        return (generated, Generated);
    }
}
