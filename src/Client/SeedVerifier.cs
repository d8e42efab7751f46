using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Client;

/// <summary>Re-derives an answer offline with seedseq-v1. A daemon running another scheme, or a damaged answer, never goes unnoticed.</summary>
public static class SeedVerifier
{
    /// <summary>Throws <see cref="SeedVerificationException"/> unless <paramref name="answer"/> is exactly the seedseq-v1 seed of the key asked for.</summary>
    public static void Verify(IssuedSeed answer, string experimentId, uint worker, string library, string stream)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var key = $"(experiment '{experimentId}', worker {worker}, library '{library}', stream '{stream}')";
        if (answer.Scheme != SeedSeqV1.Scheme)
        {
            throw new SeedVerificationException($"seedd answered {key} with scheme '{answer.Scheme}'; this SDK verifies only '{SeedSeqV1.Scheme}'. Upgrade the SDK or point it at a seedseq-v1 daemon.");
        }

        if (answer.ExperimentId != experimentId || answer.Worker != worker || answer.Library != library || answer.Stream != stream)
        {
            throw new SeedVerificationException($"seedd answered {key} with the seed of (experiment '{answer.ExperimentId}', worker {answer.Worker}, library '{answer.Library}', stream '{answer.Stream}').");
        }

        if (!Root.TryParse(answer.Root, out var root))
        {
            throw new SeedVerificationException($"seedd answered {key} with an invalid root '{answer.Root}'.");
        }

        var expected = SeedSeqV1.Derive(root, worker, library, stream);
        if (answer.Seed64 != expected.Seed64 || answer.Seed != expected.Seed || answer.Width != expected.Width
            || !answer.State.SequenceEqual(expected.StateWords()) || !answer.SpawnKey.SequenceEqual(expected.SpawnKey()))
        {
            throw new SeedVerificationException(
                $"seedd answered {key} with seed64 {answer.Seed64} (seed {answer.Seed}, width {answer.Width}); seedseq-v1 derives seed64 {expected.Seed64} (seed {expected.Seed}, width {expected.Width}) for root {answer.Root}.");
        }
    }
}
