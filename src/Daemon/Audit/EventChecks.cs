using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;

namespace SeedDaemon.Daemon.Audit;

/// <summary>
/// What can be wrong with one ledger event read in chain order, each check on its own: its place,
/// its link to the event before, its hash, its seed. Ledger verification stops at the first; the
/// store check reports each.
/// </summary>
internal static class EventChecks
{
    public static string? Place(LedgerEntry entry, ulong expected) =>
        entry.Sequence != expected ? $"event {expected} is missing (the next event has sequence {entry.Sequence})" : null;

    public static string? Link(LedgerRecord record, ulong expected, string previous) =>
        record.PreviousHash != previous ? $"event {record.Entry.Sequence}: prev_hash {record.PreviousHash} is not the hash of event {expected - 1} ({previous})" : null;

    public static string? Contents(LedgerRecord record)
    {
        var entry = record.Entry;
        return LedgerHash.ToHex(LedgerHash.Compute(LedgerHash.FromHex(record.PreviousHash), entry)) != record.Hash
            ? $"event {entry.Sequence}: its hash does not match its contents (worker {entry.Worker}, library '{entry.Library}', stream '{entry.Stream}', seed64 {entry.Seed64}): the event was altered"
            : null;
    }

    public static string? Seed(UInt128 root, LedgerEntry entry, ColumnCache columns)
    {
        var derived = columns.Get(root, entry.Library, entry.Stream).Derive(entry.Worker).Seed64;
        return derived != entry.Seed64 ? $"event {entry.Sequence}: seed64 {entry.Seed64} is not the seedseq-v1 seed {derived} of its key" : null;
    }
}
