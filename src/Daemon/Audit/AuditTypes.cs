using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;

namespace SeedDaemon.Daemon.Audit;

/// <summary>Which events to list. Null means "any"; an empty stream means the default stream only.</summary>
internal sealed record EventFilter(
    string ExperimentId,
    uint? WorkerMin = null,
    uint? WorkerMax = null,
    string? Library = null,
    string? Stream = null,
    DateTime? Start = null,
    DateTime? End = null)
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

        if (Start >= End)
        {
            throw SeedDaemonException.Invalid("start_time", "start_time must be before end_time.");
        }
    }

    public bool Matches(LedgerEntry entry)
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(entry.TimeUnixMilliseconds).UtcDateTime;
        return (WorkerMin is null || entry.Worker >= WorkerMin)
            && (WorkerMax is null || entry.Worker <= WorkerMax)
            && (Library is null || entry.Library == Library)
            && (Stream is null || entry.Stream == Stream)
            && (Start is null || time >= Start)
            && (End is null || time < End);
    }
}

/// <summary>The answer to "is this the seed of this key?".</summary>
internal sealed record SeedCheck(bool Match, DerivedSeed Expected, SeedRecord? Record);

/// <summary>The outcome of recomputing a ledger's hash chain.</summary>
internal sealed record LedgerVerification(bool Ok, ulong EventsChecked, ulong FirstBrokenSequence, string Reason, ChainHead Head);

/// <summary>One part of a manifest, in the order they are exported.</summary>
internal abstract record ManifestItem
{
    private ManifestItem()
    {
    }

    public sealed record Header(ExperimentRecord Experiment) : ManifestItem;

    public sealed record Seed(SeedAnswer Issued) : ManifestItem;

    public sealed record Event(LedgerRecord Record) : ManifestItem;

    public sealed record Head(ChainHead ChainHead) : ManifestItem;
}
