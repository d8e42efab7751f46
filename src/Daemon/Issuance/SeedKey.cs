using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>A validated (experiment, worker, library, stream) key.</summary>
internal readonly record struct SeedKey(string ExperimentId, uint Worker, string Library, string Stream)
{
    /// <summary>
    /// Validates the parts of a key as a client sent them. <paramref name="batchIndex"/> is the key's
    /// place in a batch, named in errors ("requests[3].library"); -1 for a lone key.
    /// </summary>
    public static SeedKey Parse(string experimentId, uint worker, string library, string stream, int batchIndex = -1)
    {
        // The field names are built only for an error: a batch of 1,000 keys would build 3,000.
        if (!KeyRules.IsValidExperimentId(experimentId) || !KeyRules.IsValidWorker(worker) || !KeyRules.IsValidName(library) || !KeyRules.IsValidStream(stream))
        {
            var prefix = batchIndex < 0 ? "" : $"requests[{batchIndex}].";
            Validation.ExperimentId(experimentId, prefix + "experiment_id");
            if (!KeyRules.IsValidWorker(worker))
            {
                throw SeedDaemonException.Invalid(prefix + "worker", "worker 4294967295 (0xFFFFFFFF) is reserved; workers are 0 to 4294967294.");
            }

            Validation.Library(library, prefix + "library");
            Validation.Stream(stream, prefix + "stream");
        }

        return new SeedKey(experimentId, worker, library, stream);
    }

    public override string ToString() => $"({ExperimentId}, {Worker}, {Library}, {Stream})";
}
