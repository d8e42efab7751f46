using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;

using SeedDaemon.Daemon.Transparency;

namespace SeedDaemon.Daemon.Audit;

/// <summary>Which events to list: those of <see cref="Keys"/>, recorded from <see cref="Start"/> (inclusive) to <see cref="End"/>.</summary>
internal sealed record EventFilter(string ExperimentId, KeyFilter Keys, DateTime? Start = null, DateTime? End = null)
{
    public void Validate()
    {
        Keys.Validate();
        if (Start >= End)
        {
            throw SeedDaemonException.Invalid("start_time", "start_time must be before end_time.");
        }
    }

    public bool Matches(LedgerEntry entry)
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(entry.TimeUnixMilliseconds).UtcDateTime;
        return Keys.Matches(entry.Worker, entry.Library, entry.Stream)
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

    /// <summary>The signed checkpoint of the events exported (their tree).</summary>
    public sealed record TreeHead(SignedTreeHead Checkpoint) : ManifestItem;

    public sealed record Process(ProcessRecord Record) : ManifestItem;

    public sealed record Fingerprint(FingerprintRecord Record) : ManifestItem;
}
