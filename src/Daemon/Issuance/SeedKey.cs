using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>A validated (experiment, worker, library, stream) key.</summary>
public readonly record struct SeedKey(string ExperimentId, uint Worker, string Library, string Stream)
{
    /// <summary>
    /// Validates the parts of a key as a client sent them. <paramref name="fieldPrefix"/> is put
    /// before each field name in errors ("" or "requests[3].").
    /// </summary>
    public static SeedKey Parse(string experimentId, uint worker, string library, string stream, string fieldPrefix = "")
    {
        Validation.ExperimentId(experimentId, fieldPrefix + "experiment_id");
        if (!KeyRules.IsValidWorker(worker))
        {
            throw SeedDaemonException.Invalid(fieldPrefix + "worker", "worker 4294967295 (0xFFFFFFFF) is reserved; workers are 0 to 4294967294.");
        }

        Validation.Library(library, fieldPrefix + "library");
        Validation.Stream(stream, fieldPrefix + "stream");

        return new SeedKey(experimentId, worker, library, stream);
    }

    public override string ToString() => $"({ExperimentId}, {Worker}, {Library}, {Stream})";
}
