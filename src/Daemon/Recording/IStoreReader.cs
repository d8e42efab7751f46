using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// Reads of what is durable: experiments, issued seeds and ledger events. A backend answers them
/// directly (<see cref="ISeedStore.Reader"/>); only writes go through the group commit.
/// </summary>
internal interface IStoreReader
{
    /// <summary>An experiment as it is now (a replicated backend reads the database).</summary>
    ValueTask<ExperimentRecord?> FindExperimentAsync(string experimentId, CancellationToken cancellationToken);

    /// <summary>The experiment's immutable part (root, scheme) for deriving seeds; may be cached.</summary>
    ValueTask<ExperimentRecord?> FindExperimentForIssueAsync(string experimentId, CancellationToken cancellationToken);

    /// <summary>Experiments ordered by id (ordinal), after <paramref name="afterId"/> when given.</summary>
    ValueTask<IReadOnlyList<ExperimentRecord>> ListExperimentsAsync(string? afterId, int limit, CancellationToken cancellationToken);

    /// <summary>Issued seeds of one experiment in (worker, library, stream) order, after <paramref name="afterKey"/>.</summary>
    ValueTask<IReadOnlyList<SeedRecord>> ListSeedsAsync(string experimentId, SeedCursor? afterKey, int limit, CancellationToken cancellationToken);

    ValueTask<SeedRecord?> FindSeedAsync(SeedKey key, CancellationToken cancellationToken);

    /// <summary>Ledger events of one experiment in chain order, with sequence above <paramref name="afterSequence"/>.</summary>
    ValueTask<IReadOnlyList<LedgerRecord>> ListEventsAsync(string experimentId, ulong afterSequence, int limit, CancellationToken cancellationToken);

    /// <summary>The chain head as the experiment record keeps it.</summary>
    ValueTask<ChainHead> GetChainHeadAsync(string experimentId, CancellationToken cancellationToken);

    /// <summary>The experiment's ledger tree as durable: its size and right edge (shared: not to be appended to). NOT_FOUND for an unknown experiment.</summary>
    ValueTask<MerkleFrontier> GetTreeAsync(string experimentId, CancellationToken cancellationToken);

    /// <summary>The leaf hashes (seedd-ledger-v2) of the durable events with leaf indexes [<paramref name="start"/>, <paramref name="end"/>), gap-free: a missing event is damage.</summary>
    async ValueTask<IReadOnlyList<byte[]>> ListLeafHashesAsync(string experimentId, long start, long end, CancellationToken cancellationToken)
    {
        var events = await ListEventsAsync(experimentId, (ulong)start, (int)(end - start), cancellationToken);
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Entry.Sequence != (ulong)(start + i + 1))
            {
                throw new InvalidDataException($"the ledger of '{experimentId}' is damaged: event {start + i + 1} is missing (the read gave {events[i].Entry.Sequence})");
            }
        }

        return events.Count == end - start ? Derivation.Ledger.LedgerHash.LeafHashes([.. events.Select(e => e.Entry)])
            : throw new InvalidDataException($"the ledger of '{experimentId}' is damaged: event {start + events.Count + 1} is missing");
    }

    /// <summary>
    /// The event that first issued <paramref name="key"/> among the first <paramref name="size"/>,
    /// found from the key's first issue time: the first event at that time, then forward through the
    /// events of that time. Null when none of them is the key's (a log whose times went backwards).
    /// </summary>
    ValueTask<LedgerRecord?> FindFirstEventAsync(SeedKey key, long unixMs, long size, CancellationToken cancellationToken);

    /// <summary>
    /// Waits (a bounded time) until every entry of the experiment that was durable when called has its
    /// place in the log, so that a checkpoint or a proof asked for after a seed covers it. False when
    /// some still wait. The embedded store places entries in its group commit: true at once.
    /// </summary>
    ValueTask<bool> WaitForIntegrationAsync(string experimentId, CancellationToken cancellationToken) => new(true);

    /// <summary>Whether the key was issued into an entry that has no place in the log yet (PostgreSQL, before its sequencer placed it).</summary>
    ValueTask<bool> IsPendingAsync(SeedKey key, CancellationToken cancellationToken) => new(false);

    /// <summary>The stored subtree roots of level <paramref name="level"/> (8, 16, ...) with indexes [<paramref name="start"/>, <paramref name="end"/>), all durable ones.</summary>
    ValueTask<IReadOnlyList<byte[]>> ListTreeNodesAsync(string experimentId, int level, long start, long end, CancellationToken cancellationToken);

    /// <summary>The processes of an experiment's runs (of one run when <paramref name="runId"/> is given), by run id (ordinal) and worker.</summary>
    ValueTask<IReadOnlyList<ProcessRecord>> ListProcessesAsync(string experimentId, string? runId, CancellationToken cancellationToken);

    ValueTask<StepFingerprint?> FindFingerprintAsync(ProcessKey key, long step, CancellationToken cancellationToken);

    /// <summary>
    /// A page of a run's fingerprints in (step, worker) order: from <paramref name="fromStep"/> on, or
    /// after <paramref name="after"/> when given (a page's <see cref="FingerprintPage.Next"/>). A page
    /// holds about <paramref name="limit"/> fingerprints: a store may end it at its own boundary past
    /// that (the embedded store at the end of a row of blocks).
    /// </summary>
    ValueTask<FingerprintPage> ListFingerprintsAsync(string experimentId, string runId, long fromStep, FingerprintCursor? after, int limit, CancellationToken cancellationToken);
}

/// <summary>Reads every store answers the same way, over <see cref="IStoreReader"/>'s pages.</summary>
internal static class StoreReaderPages
{
    /// <summary>A run's fingerprints in (step, worker) order from <paramref name="fromStep"/> on, a page at a time (memory stays bounded: two pages).</summary>
    public static async IAsyncEnumerable<IReadOnlyList<FingerprintRecord>> FingerprintPagesAsync(
        this IStoreReader reader, string experimentId, string runId, long fromStep, int pageSize, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The next page is asked for before this one is handed on: a store that answers asynchronously
        // (PostgreSQL) reads it while the caller sends this one. A caller that stops early cancels it.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reading = reader.ListFingerprintsAsync(experimentId, runId, fromStep, null, pageSize, stop.Token).AsTask();
        try
        {
            while (true)
            {
                var page = await reading;
                if (page.Next is { } next)
                {
                    reading = reader.ListFingerprintsAsync(experimentId, runId, fromStep, next, pageSize, stop.Token).AsTask();
                }

                if (page.Records.Count > 0)
                {
                    yield return page.Records;
                }

                if (page.Next is null)
                {
                    yield break;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            try
            {
                await reading;
            }
            catch (Exception)
            {
                // The read nobody waits for any more (cancelled, or its error already answered).
            }
        }
    }
}

/// <summary>A position in a run's fingerprints: everything up to (<see cref="Step"/>, <see cref="Worker"/>) in (step, worker) order was read.</summary>
internal readonly record struct FingerprintCursor(long Step, uint Worker)
{
    /// <summary>What the store that answered the page before needs to go on checking (the embedded store's step links); null for none.</summary>
    public object? Links { get; init; }

    /// <summary>The position after the last worker of <paramref name="step"/>.</summary>
    public static FingerprintCursor EndOf(long step) => new(step, uint.MaxValue);

    /// <summary>The position of the last record of a page that ended at <paramref name="limit"/>, null when the page is the run's last.</summary>
    public static FingerprintCursor? After(IReadOnlyList<FingerprintRecord> page, int limit) =>
        page.Count < limit ? null : new FingerprintCursor(page[^1].Fingerprint.Step, page[^1].Key.Worker);
}

/// <summary>A page of a run's fingerprints and where the next one starts (null: the run ends here).</summary>
internal sealed record FingerprintPage(IReadOnlyList<FingerprintRecord> Records, FingerprintCursor? Next);

/// <summary>A position in an experiment's issued seeds.</summary>
internal readonly record struct SeedCursor(uint Worker, string Library, string Stream);
