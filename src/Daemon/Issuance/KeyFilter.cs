using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>
/// Which keys a listing keeps (issued seeds, ledger events): an inclusive worker range, a library,
/// a stream. Null means "any"; an empty stream means the default stream only.
/// </summary>
internal sealed record KeyFilter(uint? WorkerMin = null, uint? WorkerMax = null, string? Library = null, string? Stream = null)
{
    public bool IsEmpty => WorkerMin is null && WorkerMax is null && Library is null && Stream is null;

    /// <summary>
    /// Where a listing of keys in (worker, library, stream) order starts: just before worker_min's
    /// first key. Names are lower-case letters, digits and ._-, all below '~', so
    /// (worker_min - 1, "~", "~") sorts after every key of the worker before.
    /// </summary>
    public SeedCursor? FirstCursor => WorkerMin is { } min and > 0 ? new SeedCursor(min - 1, "~", "~") : null;

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

    /// <summary>Keys come in (worker, library, stream) order: past worker_max nothing more matches.</summary>
    public bool IsPast(uint worker) => worker > WorkerMax;

    public bool Matches(uint worker, string library, string stream) =>
        (WorkerMin is null || worker >= WorkerMin)
        && (WorkerMax is null || worker <= WorkerMax)
        && (Library is null || library == Library)
        && (Stream is null || stream == Stream);
}
