using System.Globalization;
using System.Runtime.CompilerServices;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;
using SeedDaemon.Daemon.Transparency;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Audit;

/// <summary>Answers audit questions over the ledger: filtered event listings, chain verification, seed checks, manifests.</summary>
internal sealed class LedgerAuditor(ISeedStore store, ColumnCache columns, LedgerProofs proofs)
{
    private const int ChunkSize = 1000;
    private const int MaxScannedPerPage = 20_000;

    public async Task<(IReadOnlyList<LedgerRecord> Events, string NextPageToken)> ListEventsAsync(EventFilter filter, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(filter.ExperimentId);
        var limit = Validation.PageSize(pageSize);
        filter.Validate();
        _ = await ExperimentAsync(filter.ExperimentId, cancellationToken);
        var after = DecodeSequence(pageToken);
        if (after == 0)
        {
            // A listing from the start shows what was issued before it was asked (PostgreSQL places entries just after they are durable).
            await store.Reader.WaitForIntegrationAsync(filter.ExperimentId, cancellationToken);
        }

        // Scan in chain order; stop at a full page, the end, or the scan budget (the token resumes the scan).
        var page = new List<LedgerRecord>(limit);
        var scanned = 0;
        await foreach (var record in EventsAsync(filter.ExperimentId, after, cancellationToken))
        {
            scanned++;
            if (filter.Matches(record.Entry))
            {
                page.Add(record);
            }

            if (page.Count == limit || scanned >= MaxScannedPerPage)
            {
                return (page, PageToken.Encode(Hex(record.Entry.Sequence)));
            }
        }

        return (page, "");
    }

    public async Task<SeedCheck> VerifySeedAsync(SeedKey key, ulong claimed, CancellationToken cancellationToken)
    {
        var experiment = await ExperimentAsync(key.ExperimentId, cancellationToken);
        var derived = columns.Get(experiment.Root, key.Library, key.Stream).Derive(key.Worker);
        var record = await store.Reader.FindSeedAsync(key, cancellationToken);
        return new SeedCheck(claimed == derived.Seed || claimed == derived.Seed64, derived, record);
    }

    /// <summary>
    /// Recomputes the chain up to the head the experiment record held when verification started:
    /// sequence, previous hash, hash of the contents, seed against seedseq-v1, and the issued-seed
    /// record behind every event; then the tree over the same events: every stored subtree and the
    /// root the store signs checkpoints with. Reads in chunks: memory stays bounded.
    /// </summary>
    public async Task<LedgerVerification> VerifyLedgerAsync(string experimentId, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        var experiment = await ExperimentAsync(experimentId, cancellationToken);
        await store.Reader.WaitForIntegrationAsync(experimentId, cancellationToken);
        var head = await store.Reader.GetChainHeadAsync(experimentId, cancellationToken);
        var storedTree = await store.Reader.GetTreeAsync(experimentId, cancellationToken);
        var previous = LedgerHash.ToHex(LedgerHash.Genesis);
        ulong expected = 1;
        var tree = new MerkleFrontier();
        var nodes = new List<TreeNode>();
        var leaves = new LedgerLeafHasher();
        try
        {
            await foreach (var record in EventsAsync(experimentId, 0, cancellationToken))
            {
                var entry = record.Entry;
                if (entry.Sequence > head.Sequence)
                {
                    break;
                }

                var problem = await CheckAsync(experiment, record, expected, previous, cancellationToken);
                if (problem is not null)
                {
                    return new LedgerVerification(false, expected - 1, Math.Min(expected, entry.Sequence), problem, head);
                }

                tree.Append(leaves.Hash(entry), nodes);
                if (nodes.Count >= ChunkSize && await StoredNodesProblemAsync(experimentId, nodes, cancellationToken) is { } altered)
                {
                    return new LedgerVerification(false, expected, altered.FirstEvent, altered.Reason, head);
                }

                previous = record.Hash;
                expected++;
            }
        }
        catch (SeedDaemonException damaged) when (damaged.Kind == ErrorKind.DataLoss)
        {
            // A page could not be read (the store found damage in it): name the first event that cannot, one at a time.
            return await FirstUnreadableAsync(experiment, head, expected, previous, damaged, cancellationToken);
        }

        var verified = expected - 1;
        if (verified != head.Sequence || previous != head.Hash)
        {
            return new LedgerVerification(false, verified, verified + 1,
                $"the chain head in the experiment record (sequence {head.Sequence}, hash {head.Hash}) does not match the events (last sequence {verified}, hash {previous}): events are missing or the head was altered", head);
        }

        if (await StoredNodesProblemAsync(experimentId, nodes, cancellationToken) is { } wrong)
        {
            return new LedgerVerification(false, verified, wrong.FirstEvent, wrong.Reason, head);
        }

        // The right edge read with the head (the log may have grown since: then its root at this size, from the stored subtrees).
        var signed = storedTree.Size == tree.Size ? storedTree.Root() : await proofs.RootAsync(experimentId, tree.Size, cancellationToken);
        if (verified > 0 && !signed.AsSpan().SequenceEqual(tree.Root()))
        {
            return new LedgerVerification(false, verified, verified,
                $"the ledger tree the store signs checkpoints with (root {Convert.ToHexStringLower(signed)} at {verified} entries) does not match the events (root {Convert.ToHexStringLower(tree.Root())}): the tree's right edge was altered", head);
        }

        return new LedgerVerification(true, verified, 0, "", head);
    }

    /// <summary>The stored subtrees the events completed, held to what the store keeps (then forgotten); the first that differs, with the first event it covers.</summary>
    private async Task<(ulong FirstEvent, string Reason)?> StoredNodesProblemAsync(string experimentId, List<TreeNode> completed, CancellationToken cancellationToken)
    {
        foreach (var level in completed.GroupBy(n => n.Level))
        {
            var first = level.First().Index;
            IReadOnlyList<byte[]> stored;
            try
            {
                stored = await store.Reader.ListTreeNodesAsync(experimentId, level.Key, first, first + level.Count(), cancellationToken);
            }
            catch (SeedDaemonException unreadable) when (unreadable.Kind == ErrorKind.DataLoss)
            {
                return ((ulong)(first << level.Key) + 1, unreadable.Message);
            }

            foreach (var (node, hash) in level.Zip(stored))
            {
                if (!node.Hash.AsSpan().SequenceEqual(hash))
                {
                    var start = (ulong)(node.Index << node.Level) + 1;
                    return (start, $"the ledger tree's stored subtree of events {start} to {start + (1UL << node.Level) - 1} (level {node.Level}, index {node.Index}) does not match those events: it was altered");
                }
            }
        }

        completed.Clear();
        return null;
    }

    /// <summary>From <paramref name="expected"/> on, one event a read, until one cannot be read (or fails its checks): the verification's answer.</summary>
    private async Task<LedgerVerification> FirstUnreadableAsync(ExperimentRecord experiment, ChainHead head, ulong expected, string previous, SeedDaemonException damaged, CancellationToken cancellationToken)
    {
        while (expected <= head.Sequence)
        {
            IReadOnlyList<LedgerRecord> one;
            try
            {
                one = await store.Reader.ListEventsAsync(experiment.Id, expected - 1, 1, cancellationToken);
            }
            catch (SeedDaemonException unreadable) when (unreadable.Kind == ErrorKind.DataLoss)
            {
                return new LedgerVerification(false, expected - 1, expected, unreadable.Message, head);
            }

            if (one.Count == 0)
            {
                break;
            }

            if (await CheckAsync(experiment, one[0], expected, previous, cancellationToken) is { } problem)
            {
                return new LedgerVerification(false, expected - 1, expected, problem, head);
            }

            previous = one[0].Hash;
            expected++;
        }

        return new LedgerVerification(false, expected - 1, expected, damaged.Message, head);
    }

    /// <summary>The manifest's parts in order: the experiment, every issued seed, every event, the head of the last event sent, then the runs' processes and fingerprints.</summary>
    public async IAsyncEnumerable<ManifestItem> ManifestAsync(string experimentId, bool includeRuns, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        var experiment = await ExperimentAsync(experimentId, cancellationToken);
        yield return new ManifestItem.Header(experiment);

        SeedCursor? cursor = null;
        while (true)
        {
            var seeds = await store.Reader.ListSeedsAsync(experimentId, cursor, ChunkSize, cancellationToken);
            foreach (var seed in seeds)
            {
                yield return new ManifestItem.Seed(SeedAnswer.Of(seed, experiment, columns));
            }

            if (seeds.Count < ChunkSize)
            {
                break;
            }

            cursor = new SeedCursor(seeds[^1].Key.Worker, seeds[^1].Key.Library, seeds[^1].Key.Stream);
        }

        // The events of the seeds just listed (PostgreSQL places them just after they are durable): without them
        // seeds[] would hold rows that events[] does not issue, which verify-manifest refuses as altered.
        if (!await store.Reader.WaitForIntegrationAsync(experimentId, cancellationToken))
        {
            throw new SeedDaemonException(ErrorKind.Unavailable, $"The manifest of '{experimentId}' stopped: seeds it listed are recorded but their events are not yet integrated into the log (the sequencer places them after they are durable; it may be changing hands). The export is incomplete: retry it in a few seconds.");
        }
        var head = ChainHead.Genesis;
        await foreach (var record in EventsAsync(experimentId, 0, cancellationToken))
        {
            yield return new ManifestItem.Event(record);
            head = new ChainHead(record.Entry.Sequence, record.Hash);
        }

        yield return new ManifestItem.Head(head);
        if (head.Sequence > 0)
        {
            yield return new ManifestItem.TreeHead(await proofs.CheckpointAsync(experimentId, (long)head.Sequence, cancellationToken));
        }
        if (!includeRuns)
        {
            yield break;
        }

        // Each run's fingerprints up to the last step its processes had when they were read: one consistent cut.
        var processes = await store.Reader.ListProcessesAsync(experimentId, null, cancellationToken);
        foreach (var process in processes)
        {
            yield return new ManifestItem.Process(process);
        }

        foreach (var run in processes.Select(p => p.Key.RunId).Distinct(StringComparer.Ordinal))
        {
            var lastStep = processes.Where(p => p.Key.RunId == run).ToDictionary(p => p.Key.Worker, p => p.LastStep);
            await foreach (var page in store.Reader.FingerprintPagesAsync(experimentId, run, 0, ChunkSize, cancellationToken))
            {
                foreach (var record in page.Where(r => r.Fingerprint.Step <= lastStep.GetValueOrDefault(r.Key.Worker, -1)))
                {
                    yield return new ManifestItem.Fingerprint(record);
                }
            }
        }
    }

    /// <summary>An experiment's events after <paramref name="after"/> in chain order, read a chunk at a time (memory stays bounded).</summary>
    private async IAsyncEnumerable<LedgerRecord> EventsAsync(string experimentId, ulong after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var chunk = await store.Reader.ListEventsAsync(experimentId, after, ChunkSize, cancellationToken);
            foreach (var record in chunk)
            {
                yield return record;
            }

            if (chunk.Count < ChunkSize)
            {
                yield break;
            }

            after = chunk[^1].Entry.Sequence;
        }
    }

    private async Task<string?> CheckAsync(ExperimentRecord experiment, LedgerRecord record, ulong expected, string previous, CancellationToken cancellationToken)
    {
        var entry = record.Entry;
        if ((EventChecks.Place(entry, expected) ?? EventChecks.Link(record, expected, previous) ?? EventChecks.Contents(record) ?? EventChecks.Seed(experiment.Root, entry, columns)) is { } problem)
        {
            return problem;
        }

        var seed = await store.Reader.FindSeedAsync(new SeedKey(entry.ExperimentId, entry.Worker, entry.Library, entry.Stream), cancellationToken);
        if (seed is null || seed.Seed64 != entry.Seed64)
        {
            return $"event {entry.Sequence}: the issued-seed record of its key is missing or holds another seed";
        }

        return null;
    }

    private async Task<ExperimentRecord> ExperimentAsync(string experimentId, CancellationToken cancellationToken) =>
        await store.Reader.FindExperimentAsync(experimentId, cancellationToken) ?? throw SeedDaemonException.ExperimentNotFound(experimentId);

    private static string Hex(ulong sequence) => sequence.ToString("x16", CultureInfo.InvariantCulture);

    private static ulong DecodeSequence(string? pageToken)
    {
        var text = PageToken.Decode(pageToken);
        if (text is null)
        {
            return 0;
        }

        return ulong.TryParse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var sequence) && text.Length == 16
            ? sequence
            : throw SeedDaemonException.Invalid("page_token", "page_token is damaged; pass next_page_token from the previous response unchanged.");
    }
}
