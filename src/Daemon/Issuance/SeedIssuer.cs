using SeedDaemon.Daemon.Operations;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>
/// Issues seeds: derives each key with seedseq-v1 and answers only once the store has durably
/// recorded the issue.
/// </summary>
internal sealed class SeedIssuer(ISeedStore store, ColumnCache columns, Metrics metrics)
{
    public async Task<IReadOnlyList<SeedAnswer>> IssueAsync(IReadOnlyList<SeedKey> keys, RequestOrigin origin, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return [];
        }

        var derived = new DerivedSeed[keys.Count];
        var roots = new UInt128[keys.Count];
        var issues = new SeedIssue[keys.Count];
        ExperimentRecord? experiment = null;
        for (var i = 0; i < keys.Count; i++)
        {
            var key = keys[i];
            if (experiment?.Id != key.ExperimentId)
            {
                experiment = await store.Reader.FindExperimentForIssueAsync(key.ExperimentId, cancellationToken)
                    ?? throw SeedDaemonException.ExperimentNotFound(key.ExperimentId, keys.Count == 1 ? "experiment_id" : $"requests[{i}].experiment_id");
            }

            roots[i] = experiment.Root;
            derived[i] = columns.Get(experiment.Root, key.Library, key.Stream).Derive(key.Worker);
            issues[i] = new SeedIssue(key, derived[i].Seed64);
        }

        var records = await store.RecordIssuesAsync(issues, origin, cancellationToken);
        var results = new SeedAnswer[keys.Count];
        for (var i = 0; i < keys.Count; i++)
        {
            metrics.SeedIssued(keys[i].Library);
            results[i] = new SeedAnswer(records[i], derived[i], roots[i]);
        }

        return results;
    }

    /// <summary>
    /// Issued seeds of one experiment that pass <paramref name="filter"/>, one page at a time, each
    /// re-derived for its SeedSequence state. Reads only: nothing is issued or recorded. A page
    /// stops after <see cref="MaxScannedPerPage"/> records read, so a sparse filter answers in bounded time.
    /// </summary>
    public async Task<(IReadOnlyList<SeedAnswer> Seeds, string NextPageToken)> ListIssuedAsync(string experimentId, KeyFilter filter, int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        var limit = Validation.PageSize(pageSize);
        filter.Validate();
        var experiment = await store.Reader.FindExperimentAsync(experimentId, cancellationToken) ?? throw SeedDaemonException.ExperimentNotFound(experimentId);
        var after = DecodeSeedCursor(pageToken) ?? filter.FirstCursor;
        var items = new List<SeedAnswer>(limit);
        var scanned = 0;

        // A filter may skip most records: read them 1,000 at a time rather than a page's worth.
        var chunk = filter.IsEmpty ? limit + 1 : 1000;
        while (true)
        {
            var page = await store.Reader.ListSeedsAsync(experimentId, after, chunk, cancellationToken);
            foreach (var record in page)
            {
                if (filter.IsPast(record.Key.Worker))
                {
                    return (items, "");
                }

                if (items.Count == limit)
                {
                    return (items, EncodeSeedCursor(after!.Value));
                }

                after = new SeedCursor(record.Key.Worker, record.Key.Library, record.Key.Stream);
                scanned++;
                if (filter.Matches(record.Key.Worker, record.Key.Library, record.Key.Stream))
                {
                    items.Add(SeedAnswer.Of(record, experiment, columns));
                }
            }

            if (page.Count < chunk)
            {
                return (items, "");
            }

            if (scanned >= MaxScannedPerPage)
            {
                return (items, EncodeSeedCursor(after!.Value));
            }
        }
    }

    private const int MaxScannedPerPage = 20_000;

    private static string EncodeSeedCursor(SeedCursor last) => PageToken.Encode($"{last.Worker}|{last.Library}|{last.Stream}");

    private static SeedCursor? DecodeSeedCursor(string? pageToken)
    {
        var text = PageToken.Decode(pageToken);
        if (text is null)
        {
            return null;
        }

        var parts = text.Split('|');
        if (parts.Length != 3 || !uint.TryParse(parts[0], out var worker) || !KeyRules.IsValidName(parts[1]) || !KeyRules.IsValidStream(parts[2]))
        {
            throw SeedDaemonException.Invalid("page_token", "page_token is damaged; pass next_page_token from the previous response unchanged.");
        }

        return new SeedCursor(worker, parts[1], parts[2]);
    }
}
