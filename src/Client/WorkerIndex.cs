using SeedDaemon.Derivation;

namespace SeedDaemon.Client;

/// <summary>Composes hierarchical worker ids (rank × dataloader worker, ...) into one worker index.</summary>
public static class WorkerIndex
{
    /// <summary>The largest worker index; 0xFFFFFFFF is reserved.</summary>
    public const uint Max = KeyRules.ReservedWorker - 1;

    /// <summary>
    /// <c>rank * workersPerRank + subWorker</c>, e.g. a dataloader worker of a rank. Refuses a
    /// sub-worker outside its range and any result above <see cref="Max"/>.
    /// </summary>
    public static uint Compose(uint rank, uint subWorker, uint workersPerRank)
    {
        if (workersPerRank == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(workersPerRank), "workersPerRank must be at least 1.");
        }

        if (subWorker >= workersPerRank)
        {
            throw new ArgumentOutOfRangeException(nameof(subWorker), subWorker, $"subWorker must be below workersPerRank ({workersPerRank}).");
        }

        var index = ((ulong)rank * workersPerRank) + subWorker;
        if (index > Max)
        {
            throw new OverflowException($"rank {rank} × {workersPerRank} + {subWorker} = {index} does not fit a worker index (at most {Max}). Use fewer sub-workers per rank or a second experiment.");
        }

        return (uint)index;
    }
}
