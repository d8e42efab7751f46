using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>Which issued seeds to list. Null means "any"; an empty stream means the default stream only.</summary>
internal sealed record SeedFilter(string ExperimentId, uint? WorkerMin = null, uint? WorkerMax = null, string? Library = null, string? Stream = null)
{
    public void Validate()
    {
        if (WorkerMin > WorkerMax)
        {
            throw SeedDaemonException.Invalid("worker_min", $"worker_min ({WorkerMin}) is above worker_max ({WorkerMax}).");
        }

        if (Library is not null)
        {
            Validation.Library(Library);
        }

        if (Stream is not null)
        {
            Validation.Stream(Stream);
        }
    }

    /// <summary>
    /// Where a listing starts: just before worker_min's first key. Names are lower-case letters,
    /// digits and ._-, all below '~', so (worker_min - 1, "~", "~") sorts after every key of the
    /// worker before.
    /// </summary>
    public SeedCursor? Start => WorkerMin is { } min and > 0 ? new SeedCursor(min - 1, "~", "~") : null;

    public bool IsEmpty => WorkerMin is null && WorkerMax is null && Library is null && Stream is null;

    /// <summary>Keys come in (worker, library, stream) order: past worker_max nothing more matches.</summary>
    public bool IsPast(SeedKey key) => key.Worker > WorkerMax;

    public bool Matches(SeedKey key) =>
        (WorkerMin is null || key.Worker >= WorkerMin)
        && (WorkerMax is null || key.Worker <= WorkerMax)
        && (Library is null || key.Library == Library)
        && (Stream is null || key.Stream == Stream);
}
