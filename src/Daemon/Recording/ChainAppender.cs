using SeedDaemon.Derivation.Ledger;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// Places entries in an experiment's log: each gets the next sequence, its chain hash (over the
/// previous one: serial by nature) and its leaf in the tree. The embedded store calls it inside its
/// group commit; PostgreSQL's sequencer calls it on the entries the replicas made durable.
/// </summary>
internal static class ChainAppender
{
    /// <summary>Appends <paramref name="pending"/> after <paramref name="head"/>, growing <paramref name="tree"/> (of head's size) in place.</summary>
    public static ChainAppend Append(PendingAppend pending, ChainHead head, MerkleFrontier tree)
    {
        if ((ulong)tree.Size != head.Sequence)
        {
            throw new InvalidDataException($"the tree of '{pending.ExperimentId}' has {tree.Size} leaves, its chain {head.Sequence} events: the database is damaged");
        }

        var append = new ChainAppend(pending.ExperimentId, head, LedgerHash.FromHex(head.Hash), pending.Entries.Count);
        append.Runs.AddRange(pending.Runs);
        var hashers = new LedgerEventHasher?[pending.Runs.Count];
        var last = append.BeforeHash;
        var sequence = head.Sequence;
        foreach (var entry in pending.Entries)
        {
            var hasher = hashers[entry.Run] ??= Hasher(pending.ExperimentId, pending.Runs[entry.Run]);
            sequence++;
            var hash = new byte[LedgerHash.HashSize];
            hasher.Hash(last, sequence, entry.Worker, entry.Library, entry.Stream, entry.Seed64, hash);
            var leaf = new byte[LedgerHash.HashSize];
            hasher.LeafHash(entry.Worker, entry.Library, entry.Stream, entry.Seed64, leaf);
            tree.Append(leaf, append.Nodes);
            append.Events.Add(new PreparedEvent(sequence, entry.Run, entry.Worker, entry.Library, entry.Stream, entry.Seed64, hash));
            last = hash;
        }

        append.After = new ChainHead(sequence, LedgerHash.ToHex(last));
        append.Tree = tree;
        return append;
    }

    private static LedgerEventHasher Hasher(string experimentId, EventRun run) =>
        new(experimentId, run.TimeUnixMs, run.Origin.Principal, run.Origin.Peer, run.Origin.ClientHost, run.Origin.ClientPid, run.Origin.ClientLabels);
}

/// <summary>
/// Entries issued into one experiment and not yet placed in its log, in issue order: who asked and
/// when (<see cref="Runs"/>, once per request), and each key with its seed.
/// </summary>
internal sealed class PendingAppend(string experimentId, int expectedEntries = 0)
{
    public string ExperimentId { get; } = experimentId;

    public List<EventRun> Runs { get; } = [];

    public List<PendingEntry> Entries { get; } = new(expectedEntries);
}

/// <summary>One entry before it has a place: its request (an index into <see cref="PendingAppend.Runs"/>), its key and the seed returned.</summary>
internal readonly record struct PendingEntry(int Run, uint Worker, string Library, string Stream, ulong Seed64);
