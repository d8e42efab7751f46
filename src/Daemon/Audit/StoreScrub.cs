using System.Diagnostics;
using System.Globalization;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;

namespace SeedDaemon.Daemon.Audit;

/// <summary>
/// The scrub: reads every record of the store while seedd serves, and reports everything that is
/// not as written, each with where it is. The backend's own documents first (where they check
/// themselves: <see cref="IDocumentCheck"/>), then each experiment through the same reads that answer
/// clients: its ledger (gap-free, each event's previous hash and hash, each seed re-derived with
/// seedseq-v1, the last event against the chain head), its issued keys (each seed re-derived, and its
/// first issue, first requester and count against the ledger's events of that key), and its runs
/// (every fingerprint readable, each process's count of steps as its record says). A read that finds
/// damage (DATA_LOSS) is a finding, and the scrub goes on past it. Every page read is followed by a
/// pause that keeps the scrub to its share of the time (<see cref="ScrubThrottle"/>). One scrub runs at a time.
/// </summary>
internal sealed class StoreScrub(ISeedStore store, ColumnCache columns, ScrubState state)
{
    private const int PageSize = 1000;
    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Scrubs the whole store, or one experiment (then without the backend's document pass), at
    /// <paramref name="dutyPercent"/>% of the time; each update is handed to <paramref name="report"/> as it happens.
    /// </summary>
    public async Task<ScrubSummary> RunAsync(string? experimentId, int dutyPercent, Func<ScrubUpdate, ValueTask> report, CancellationToken cancellationToken)
    {
        if (!state.TryBegin())
        {
            throw new SeedDaemonException(ErrorKind.FailedPrecondition, $"A store check is already running (started {state.StartedAt:O}); wait for it to finish.");
        }

        var run = new Run(store.Reader, columns, state, dutyPercent, report, cancellationToken);
        try
        {
            var summary = await run.ExecuteAsync(experimentId);
            state.Completed(summary);
            return summary;
        }
        finally
        {
            state.End();
        }
    }

    /// <summary>One scrub's progress, findings and pacing.</summary>
    private sealed class Run(IStoreReader reader, ColumnCache columns, ScrubState state, int dutyPercent, Func<ScrubUpdate, ValueTask> report, CancellationToken cancellationToken)
    {
        private readonly IStoreReader _reader = reader;
        private readonly ScrubThrottle _throttle = new(dutyPercent);
        private readonly ScrubCounts _counts = new();
        private readonly long _started = Stopwatch.GetTimestamp();
        private long _lastProgress = Stopwatch.GetTimestamp();
        private long _findings;
        private string _experiment = "";
        private int _done;
        private int _total;

        public async Task<ScrubSummary> ExecuteAsync(string? only)
        {
            List<ExperimentRecord> experiments;
            if (only is null)
            {
                await DocumentsAsync();
                experiments = await AllExperimentsAsync();
            }
            else
            {
                experiments = [await _reader.FindExperimentAsync(only, cancellationToken) ?? throw SeedDaemonException.ExperimentNotFound(only)];
            }

            _total = experiments.Count;
            foreach (var experiment in experiments)
            {
                _experiment = experiment.Id;
                await ExperimentAsync(experiment);
                _counts.Experiments++;
                _done++;
                await ProgressAsync(force: true);
            }

            return new ScrubSummary(_counts.Copy(), _findings, Stopwatch.GetElapsedTime(_started));
        }

        private async Task DocumentsAsync()
        {
            if (_reader is not IDocumentCheck documents)
            {
                return;
            }

            foreach (var page in documents.CheckDocuments(cancellationToken))
            {
                _counts.Documents += page.Read;
                state.Read(page.Read);
                foreach (var (where, problem) in page.Problems)
                {
                    await FoundAsync("", where, problem);
                }

                await PageDoneAsync();
            }
        }

        private async Task<List<ExperimentRecord>> AllExperimentsAsync()
        {
            var all = new List<ExperimentRecord>();
            string? after = null;
            while (await _reader.ListExperimentsAsync(after, PageSize, cancellationToken) is { Count: > 0 } page)
            {
                all.AddRange(page);
                after = page[^1].Id;
            }

            return all;
        }

        /// <summary>
        /// An experiment that may be written to while it is read: its ledger is checked up to the head
        /// read first (H1); its issued seeds are read after, then the head again (H2), so each key's
        /// record must lie between its events up to H1 and its events up to H2.
        /// </summary>
        private async Task ExperimentAsync(ExperimentRecord experiment)
        {
            var head = await _reader.GetChainHeadAsync(experiment.Id, cancellationToken);
            var tallies = await LedgerAsync(experiment, head);
            await KeysAsync(experiment, tallies, head);
            await RunsAsync(experiment);
        }

        /// <summary>The ledger in chain order up to <paramref name="head"/>; each key's first event and count (null when part of the ledger could not be read).</summary>
        private async Task<Dictionary<(uint, string, string), KeyTally>?> LedgerAsync(ExperimentRecord experiment, ChainHead head)
        {
            var id = experiment.Id;
            var tallies = new Dictionary<(uint, string, string), KeyTally>();
            var whole = true;
            string? previous = LedgerHash.ToHex(LedgerHash.Genesis);
            ulong expected = 1;
            ulong after = 0;
            while (after < head.Sequence)
            {
                var page = await ReadAsync(id, $"events after {after}", () => _reader.ListEventsAsync(id, after, PageSize, cancellationToken));
                if (page is null)
                {
                    // Past the damage: the next page's events cannot be linked to the last one read.
                    whole = false;
                    after += PageSize;
                    expected = after + 1;
                    previous = null;
                    continue;
                }

                if (page.Count == 0)
                {
                    break;
                }

                foreach (var record in page.TakeWhile(r => r.Entry.Sequence <= head.Sequence))
                {
                    var entry = record.Entry;
                    var where = $"event {entry.Sequence}";
                    if (EventChecks.Place(entry, expected) is { } gap)
                    {
                        whole = false;
                        await FoundAsync(id, where, gap);
                    }
                    else if (previous is not null && EventChecks.Link(record, expected, previous) is { } link)
                    {
                        await FoundAsync(id, where, link);
                    }

                    if (EventChecks.Contents(record) is { } altered)
                    {
                        await FoundAsync(id, where, altered);
                    }

                    if (EventChecks.Seed(experiment.Root, entry, columns) is { } wrongSeed)
                    {
                        await FoundAsync(id, where, wrongSeed);
                    }

                    Tally(tallies, entry);
                    previous = record.Hash;
                    expected = entry.Sequence + 1;
                }

                _counts.Events += page.Count;
                state.Read(page.Count);
                after = page[^1].Entry.Sequence;
                await PageDoneAsync();
            }

            if (whole && (expected - 1 != head.Sequence || previous != head.Hash))
            {
                await FoundAsync(id, "chain head", $"the experiment record's head (event {head.Sequence}, hash {head.Hash}) is not the ledger's last event (event {expected - 1}, hash {previous})");
            }

            return whole ? tallies : null;
        }

        private async Task KeysAsync(ExperimentRecord experiment, Dictionary<(uint, string, string), KeyTally>? tallies, ChainHead head)
        {
            var id = experiment.Id;
            var suspects = new List<SeedRecord>();
            SeedCursor? cursor = null;
            while (true)
            {
                var page = await ReadAsync(id, "issued seeds", () => _reader.ListSeedsAsync(id, cursor, PageSize, cancellationToken));
                if (page is null)
                {
                    return;
                }

                foreach (var seed in page)
                {
                    var (worker, library, stream) = (seed.Key.Worker, seed.Key.Library, seed.Key.Stream);
                    var where = $"key {Key(worker, library, stream)}";
                    var derived = columns.Get(experiment.Root, library, stream).Derive(worker).Seed64;
                    if (derived != seed.Seed64)
                    {
                        await FoundAsync(id, where, $"its record holds seed64 {seed.Seed64}, and seedseq-v1 gives {derived}");
                    }

                    if (tallies is null)
                    {
                        continue;
                    }

                    // As of the first head, or touched since (decided once the events after it are read).
                    if (tallies.TryGetValue((worker, library, stream), out var tally) && seed.IssueCount == tally.Count && tally.Matches(seed, tally.Count))
                    {
                        tally.Seen();
                    }
                    else
                    {
                        suspects.Add(seed);
                    }
                }

                _counts.Seeds += page.Count;
                state.Read(page.Count);
                await PageDoneAsync();
                if (page.Count < PageSize)
                {
                    break;
                }

                cursor = new SeedCursor(page[^1].Key.Worker, page[^1].Key.Library, page[^1].Key.Stream);
            }

            if (tallies is not null)
            {
                await SettleAsync(id, tallies, suspects, head);
            }
        }

        /// <summary>
        /// The keys whose records did not match the ledger up to the first head: each must be what its
        /// events up to the head read after the records (H2) make of it, issued more often than at the
        /// first head at most by the events between; a key with events up to the first head must have a record.
        /// </summary>
        private async Task SettleAsync(string id, Dictionary<(uint, string, string), KeyTally> tallies, List<SeedRecord> suspects, ChainHead first)
        {
            var later = new Dictionary<(uint, string, string), KeyTally>();
            var placedAll = true;
            if (suspects.Count > 0)
            {
                // Issues recorded before the records were read and not yet placed in the log (PostgreSQL): the second head covers them.
                placedAll = await _reader.WaitForIntegrationAsync(id, cancellationToken);
                var second = await _reader.GetChainHeadAsync(id, cancellationToken);
                for (var after = first.Sequence; after < second.Sequence;)
                {
                    var page = await ReadAsync(id, $"events after {after}", () => _reader.ListEventsAsync(id, after, PageSize, cancellationToken));
                    if (page is null || page.Count == 0)
                    {
                        return;
                    }

                    foreach (var record in page.TakeWhile(r => r.Entry.Sequence <= second.Sequence))
                    {
                        Tally(later, record.Entry);
                    }

                    after = page[^1].Entry.Sequence;
                }
            }

            foreach (var seed in suspects)
            {
                if (!placedAll && await _reader.IsPendingAsync(seed.Key, cancellationToken))
                {
                    // Its latest issue still waits for its place (a sequencer taking over): not checked this time, not damage.
                    continue;
                }

                var key = (seed.Key.Worker, seed.Key.Library, seed.Key.Stream);
                var before = tallies.GetValueOrDefault(key)?.Seen();
                var since = later.GetValueOrDefault(key);
                var expected = before ?? since;
                var most = (before?.Count ?? 0) + (since?.Count ?? 0);
                if (expected is null)
                {
                    await FoundAsync(id, $"key {Key(key.Worker, key.Library, key.Stream)}", "it has an issued-seed record and no event in the ledger");
                }
                else if (!expected.Matches(seed, most) || seed.IssueCount < (before?.Count ?? 1))
                {
                    var firstIssue = new DateTimeOffset(seed.FirstIssueTime).ToUnixTimeMilliseconds();
                    var least = before?.Count ?? 1;
                    var times = least == most ? most.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{least} to {most}");
                    await FoundAsync(id, $"key {Key(key.Worker, key.Library, key.Stream)}", string.Create(CultureInfo.InvariantCulture,
                        $"its record says first issued at {firstIssue} ms by '{seed.FirstRequester}', {seed.IssueCount} times; the ledger says at {expected.FirstUnixMs} ms by '{expected.FirstRequester}', {times} times"));
                }
            }

            foreach (var (key, tally) in tallies.Where(t => !t.Value.WasSeen))
            {
                await FoundAsync(id, $"key {Key(key.Item1, key.Item2, key.Item3)}", "the ledger has events for it and it has no issued-seed record");
            }
        }

        private static void Tally(Dictionary<(uint, string, string), KeyTally> tallies, Derivation.Ledger.LedgerEntry entry)
        {
            var key = (entry.Worker, entry.Library, entry.Stream);
            if (tallies.TryGetValue(key, out var tally))
            {
                tally.Count++;
            }
            else
            {
                tallies[key] = new KeyTally(entry.TimeUnixMilliseconds, entry.Principal is { Length: > 0 } principal ? principal : entry.Peer);
            }
        }

        private async Task RunsAsync(ExperimentRecord experiment)
        {
            var id = experiment.Id;
            var processes = await ReadAsync(id, "runs", () => _reader.ListProcessesAsync(id, null, cancellationToken));
            foreach (var run in processes?.GroupBy(p => p.Key.RunId, StringComparer.Ordinal) ?? [])
            {
                var counted = new Dictionary<uint, long>();
                var lastStep = run.ToDictionary(p => p.Key.Worker, p => p.LastStep);
                var whole = true;
                FingerprintCursor? after = null;
                while (true)
                {
                    var page = await ReadAsync(id, $"run '{run.Key}' fingerprints after {after?.ToString() ?? "the start"}", () => _reader.ListFingerprintsAsync(id, run.Key, 0, after, PageSize, cancellationToken));
                    if (page is null)
                    {
                        whole = false;
                        break;
                    }

                    foreach (var record in page.Records.Where(r => r.Fingerprint.Step <= lastStep.GetValueOrDefault(r.Key.Worker, -1)))
                    {
                        counted[record.Key.Worker] = counted.GetValueOrDefault(record.Key.Worker) + 1;
                    }

                    _counts.Fingerprints += page.Records.Count;
                    state.Read(page.Records.Count);
                    await PageDoneAsync();
                    if (page.Next is not { } next)
                    {
                        break;
                    }

                    after = next;
                }

                foreach (var process in whole ? run.ToList() : [])
                {
                    if (counted.GetValueOrDefault(process.Key.Worker) != process.Steps)
                    {
                        await FoundAsync(id, $"run '{run.Key}', worker {process.Key.Worker}", $"its record counts {process.Steps} steps and {counted.GetValueOrDefault(process.Key.Worker)} fingerprints were read");
                    }
                }
            }
        }

        /// <summary>A read; damage found by it is a finding (null), and the scrub goes on.</summary>
        private async Task<T?> ReadAsync<T>(string experiment, string what, Func<ValueTask<T>> read)
            where T : class
        {
            try
            {
                return await read();
            }
            catch (SeedDaemonException error) when (error.Kind == ErrorKind.DataLoss)
            {
                await FoundAsync(experiment, what, error.Message);
                return null;
            }
        }

        private async ValueTask FoundAsync(string experiment, string where, string problem)
        {
            _findings++;
            state.Found();
            await report(new ScrubUpdate.Finding(experiment, where, problem));
        }

        private async ValueTask PageDoneAsync()
        {
            await ProgressAsync(force: false);
            await _throttle.PauseAsync(cancellationToken);
        }

        private async ValueTask ProgressAsync(bool force)
        {
            if (force || Stopwatch.GetElapsedTime(_lastProgress) >= ProgressEvery)
            {
                _lastProgress = Stopwatch.GetTimestamp();
                await report(new ScrubUpdate.Progress(_counts.Copy(), _experiment, _done, _total));
            }
        }

        private static string Key(uint worker, string library, string stream) => $"(worker {worker}, library '{library}', stream '{stream}')";
    }

    /// <summary>A key's events in the ledger: the first one's time and requester, and how many.</summary>
    private sealed class KeyTally(long firstUnixMs, string firstRequester)
    {
        public long FirstUnixMs { get; } = firstUnixMs;

        public string FirstRequester { get; } = firstRequester;

        public ulong Count { get; set; } = 1;

        /// <summary>Its record was read and matched (kept so a key's record is not reported missing).</summary>
        public bool WasSeen { get; private set; }

        public KeyTally Seen()
        {
            WasSeen = true;
            return this;
        }

        /// <summary>The record's first issue is this tally's first event, and its count at most <paramref name="most"/>.</summary>
        public bool Matches(SeedRecord seed, ulong most) =>
            new DateTimeOffset(seed.FirstIssueTime).ToUnixTimeMilliseconds() == FirstUnixMs && seed.FirstRequester == FirstRequester && seed.IssueCount <= most && seed.IssueCount >= 1;
    }
}
