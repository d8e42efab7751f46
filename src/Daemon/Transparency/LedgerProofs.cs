using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation.Ledger;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Transparency;

/// <summary>
/// Signed checkpoints and proofs over each experiment's ledger tree, from what the store holds: the
/// tree's right edge, the stored subtrees (<see cref="TiledTree"/>) and, for the leaves, the events
/// themselves. A proof reads a few hundred hashes whatever the log's size.
/// </summary>
internal sealed class LedgerProofs(ISeedStore store, CheckpointSigner signer)
{
    /// <summary>When a proof asked for an entry not yet in the log: about one sequencer round under load.</summary>
    private static readonly TimeSpan RetryHint = TimeSpan.FromMilliseconds(200);

    private IStoreReader Reader => store.Reader;

    public async Task<SignedTreeHead> CheckpointAsync(string experimentId, long treeSize, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        var tree = await IntegratedTreeAsync(experimentId, cancellationToken);
        var size = Size(experimentId, treeSize, tree.Size, "tree_size");
        return await SignAsync(experimentId, tree, size, cancellationToken);
    }

    /// <summary>The inclusion proof of leaf <paramref name="index"/>, or of <paramref name="key"/>'s first event when index is null.</summary>
    public async Task<Inclusion> ProveInclusionAsync(string experimentId, long? index, SeedKey? key, long treeSize, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        var tree = await IntegratedTreeAsync(experimentId, cancellationToken);
        var size = Size(experimentId, treeSize, tree.Size, "tree_size");
        LedgerRecord record;
        if (key is { } wanted)
        {
            try
            {
                record = await FirstEventAsync(wanted, size, cancellationToken);
            }
            catch (SeedDaemonException notThere) when (notThere.Kind == ErrorKind.NotFound && treeSize == 0)
            {
                // Placed by the sequencer after the tree was read: prove it in the log as it is now.
                var grown = await Reader.GetTreeAsync(experimentId, cancellationToken);
                if (grown.Size == size)
                {
                    throw;
                }

                (tree, size) = (grown, grown.Size);
                record = await FirstEventAsync(wanted, size, cancellationToken);
            }
        }
        else
        {
            var leaf = index ?? throw SeedDaemonException.Invalid("entry", "Name the entry: its leaf_index, or a key (worker, library, stream).");
            Empty(experimentId, size);
            if (leaf < 0)
            {
                throw SeedDaemonException.Invalid("leaf_index", $"leaf_index is a 0-based position in the log; it is {leaf}.");
            }

            if (leaf >= size)
            {
                throw size == tree.Size
                    ? new SeedDaemonException(ErrorKind.OutOfRange, $"Leaf index {leaf} is not in the log of '{experimentId}', which holds entries 0 to {tree.Size - 1} ({tree.Size} entries).", "leaf_index")
                    : SeedDaemonException.Invalid("leaf_index", $"Leaf index {leaf} is not in a tree of {size} entries (the tree_size asked for); ask for a larger tree_size (the log holds {tree.Size}).");
            }

            record = await EventAsync(experimentId, leaf, cancellationToken);
        }

        var at = (long)record.Entry.Sequence - 1;
        var ranges = TiledTree.InclusionRanges(at, size);
        var stored = await ReadAsync(experimentId, ranges, cancellationToken);
        var path = ranges.Select(r => TiledTree.RangeHash(r.Start, r.End, stored)).ToList();
        var head = await SignAsync(experimentId, tree, size, cancellationToken);
        return new Inclusion(LedgerHash.EntryBytes(record.Entry), at, path, head);
    }

    public async Task<Consistency> ProveConsistencyAsync(string experimentId, long oldSize, long newSize, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        var tree = await IntegratedTreeAsync(experimentId, cancellationToken);
        var size = Size(experimentId, newSize, tree.Size, "new_size");
        Empty(experimentId, size);
        if (oldSize < 1 || oldSize > size)
        {
            throw oldSize > tree.Size
                ? new SeedDaemonException(ErrorKind.OutOfRange, $"old_size {oldSize} is larger than the log of '{experimentId}' ({tree.Size} entries): that checkpoint is not of this log, or of a log that lost entries.", "old_size")
                : SeedDaemonException.Invalid("old_size", $"old_size must be from 1 to new_size ({size}); it is {oldSize}.");
        }

        var ranges = TiledTree.ConsistencyRanges(oldSize, size);
        var stored = await ReadAsync(experimentId, ranges, cancellationToken);
        var proof = ranges.Select(r => TiledTree.RangeHash(r.Start, r.End, stored)).ToList();
        return new Consistency(oldSize, proof, await SignAsync(experimentId, tree, size, cancellationToken));
    }

    /// <summary>The root of the experiment's first <paramref name="size"/> entries as the store holds its tree (its right edge, or stored subtrees and events).</summary>
    public async Task<byte[]> RootAsync(string experimentId, long size, CancellationToken cancellationToken)
    {
        var tree = await Reader.GetTreeAsync(experimentId, cancellationToken);
        return size == tree.Size ? tree.Root()
            : size == 0 ? MerkleTree.Root([])
            : TiledTree.RangeHash(0, size, await ReadAsync(experimentId, [(0, size)], cancellationToken));
    }

    /// <summary>
    /// The tree once the entries pending when asked are in it (a bounded wait): a checkpoint or proof
    /// asked for after a seed covers it. An empty tree with entries still waiting is UNAVAILABLE, not "empty".
    /// </summary>
    private async Task<MerkleFrontier> IntegratedTreeAsync(string experimentId, CancellationToken cancellationToken)
    {
        var integrated = await Reader.WaitForIntegrationAsync(experimentId, cancellationToken);
        var tree = await Reader.GetTreeAsync(experimentId, cancellationToken);
        return tree.Size > 0 || integrated ? tree
            : throw new SeedDaemonException(ErrorKind.Unavailable, $"Seeds of '{experimentId}' are recorded, but not yet integrated into its log, which is empty so far (the sequencer places entries in the tree after they are durable). Retry in {RetryHint.TotalMilliseconds:0} ms.");
    }

    /// <summary>A requested size: 0 for the whole log, else at most its size.</summary>
    private static long Size(string experimentId, long requested, long logSize, string field)
    {
        if (requested < 0)
        {
            throw SeedDaemonException.Invalid(field, $"{field} is a number of entries (0 for the whole log); it is {requested}.");
        }

        if (requested > logSize)
        {
            throw new SeedDaemonException(ErrorKind.OutOfRange, $"{field} {requested} is larger than the log of '{experimentId}', which holds {logSize} entries.", field);
        }

        return requested == 0 ? logSize : requested;
    }

    private static void Empty(string experimentId, long size)
    {
        if (size == 0)
        {
            throw new SeedDaemonException(ErrorKind.FailedPrecondition, $"The log of '{experimentId}' is empty: nothing was issued in it yet, so there is nothing to sign or prove.");
        }
    }

    /// <summary>The event at leaf <paramref name="leaf"/> (sequence leaf + 1); one the store does not give back is damage.</summary>
    private async Task<LedgerRecord> EventAsync(string experimentId, long leaf, CancellationToken cancellationToken)
    {
        var found = await Reader.ListEventsAsync(experimentId, (ulong)leaf, 1, cancellationToken);
        return found.Count == 1 && found[0].Entry.Sequence == (ulong)leaf + 1 ? found[0]
            : throw new SeedDaemonException(ErrorKind.DataLoss, $"The ledger of '{experimentId}' is damaged: event {leaf + 1}, in its tree, cannot be read back.");
    }

    private async Task<SignedTreeHead> SignAsync(string experimentId, MerkleFrontier tree, long size, CancellationToken cancellationToken)
    {
        Empty(experimentId, size);

        var root = size == tree.Size ? tree.Root() : TiledTree.RangeHash(0, size, await ReadAsync(experimentId, [(0, size)], cancellationToken));

        return new SignedTreeHead(signer.Sign(experimentId, size, root), size, root);
    }

    /// <summary>The stored hashes the ranges fold from: leaves from the events, levels 8, 16, ... from the stored subtrees.</summary>
    private async Task<Func<int, long, byte[]>> ReadAsync(string experimentId, IEnumerable<(long Start, long End)> ranges, CancellationToken cancellationToken)
    {
        var hashes = new Dictionary<(int, long), byte[]>();
        foreach (var (level, start, end) in TiledTree.Reads(ranges))
        {
            if (level == 0)
            {
                IReadOnlyList<byte[]> leaves;
                try
                {
                    leaves = await Reader.ListLeafHashesAsync(experimentId, start, end, cancellationToken);
                }
                catch (InvalidDataException damaged)
                {
                    throw new SeedDaemonException(ErrorKind.DataLoss, $"The ledger of '{experimentId}' is damaged: {damaged.Message}.");
                }

                for (var i = 0; i < leaves.Count; i++)
                {
                    hashes[(0, start + i)] = leaves[i];
                }
            }
            else
            {
                var nodes = await Reader.ListTreeNodesAsync(experimentId, level, start, end, cancellationToken);
                for (var i = 0; i < nodes.Count; i++)
                {
                    hashes[(level, start + i)] = nodes[i];
                }
            }
        }

        return (level, index) => hashes[(level, index)];
    }

    /// <summary>
    /// The event that first issued <paramref name="key"/>, within the first <paramref name="size"/>
    /// events: found by its time (the key's first issue time is its first event's) with a binary
    /// search over the events' times (<see cref="IStoreReader.FindFirstEventAsync"/>); a log whose
    /// times go backwards is scanned.
    /// </summary>
    private async Task<LedgerRecord> FirstEventAsync(SeedKey key, long size, CancellationToken cancellationToken)
    {
        var seed = await Reader.FindSeedAsync(key, cancellationToken)
            ?? throw new SeedDaemonException(ErrorKind.NotFound, $"Key (worker {key.Worker}, library '{key.Library}', stream '{key.Stream}') of '{key.ExperimentId}' was never issued: there is no entry to prove.", "key");
        var time = new DateTimeOffset(DateTime.SpecifyKind(seed.FirstIssueTime, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        try
        {
            if (await Reader.FindFirstEventAsync(key, time, size, cancellationToken) is { } found)
            {
                return found;
            }
        }
        catch (InvalidDataException damaged)
        {
            throw new SeedDaemonException(ErrorKind.DataLoss, $"The ledger of '{key.ExperimentId}' is damaged: {damaged.Message}.");
        }

        if (await Reader.IsPendingAsync(key, cancellationToken))
        {
            throw new SeedDaemonException(ErrorKind.Unavailable,
                $"Key (worker {key.Worker}, library '{key.Library}', stream '{key.Stream}') of '{key.ExperimentId}' is recorded, but its entry is not yet integrated into the log (the sequencer places entries in the tree after they are durable). Retry in {RetryHint.TotalMilliseconds:0} ms.");
        }

        // Times that went backwards (a clock stepped back): the first event of the key, by scanning.
        for (ulong after = 0; after < (ulong)size;)
        {
            var page = await Reader.ListEventsAsync(key.ExperimentId, after, (int)Math.Min(1000, (ulong)size - after), cancellationToken);
            for (var i = 0; i < page.Count; i++)
            {
                if (page[i].Entry.Sequence != after + (ulong)i + 1)
                {
                    throw new SeedDaemonException(ErrorKind.DataLoss, $"The ledger of '{key.ExperimentId}' is damaged: event {after + (ulong)i + 1}, in its tree, cannot be read back.");
                }

                if (Is(page[i].Entry, key))
                {
                    return page[i];
                }
            }

            if (page.Count == 0)
            {
                throw new SeedDaemonException(ErrorKind.DataLoss, $"The ledger of '{key.ExperimentId}' is damaged: event {after + 1}, in its tree, cannot be read back.");
            }

            after += (ulong)page.Count;
        }

        throw new SeedDaemonException(ErrorKind.NotFound, $"Key (worker {key.Worker}, library '{key.Library}', stream '{key.Stream}') of '{key.ExperimentId}' has no event in the first {size} entries of its log.", "tree_size");

        static bool Is(LedgerEntry entry, SeedKey key) =>
            entry.Worker == key.Worker && entry.Library == key.Library && entry.Stream == key.Stream;
    }
}

/// <summary>A signed checkpoint: the note, and the size and root it states.</summary>
internal sealed record SignedTreeHead(string Note, long Size, byte[] Root);

internal sealed record Inclusion(byte[] Entry, long Index, IReadOnlyList<byte[]> AuditPath, SignedTreeHead Checkpoint);

internal sealed record Consistency(long OldSize, IReadOnlyList<byte[]> Proof, SignedTreeHead Checkpoint);
