using System.Globalization;

namespace SeedDaemon.Ctl.Manifest;

/// <summary>
/// seeds[] held against events[]: each row's first issue time, first requester and issue count are
/// what the key's events say (its first event, and how many), each key the events issue has its row,
/// and no key has two. The events are what the chain, the tree and the signature prove; the table
/// of seeds is only as good as its agreement with them.
/// </summary>
internal sealed class ManifestKeys
{
    private readonly Dictionary<(uint Worker, string Library, string Stream), Row> _rows = [];
    private readonly Dictionary<(uint Worker, string Library, string Stream), Tally> _tallies = [];

    /// <returns>A problem, or null.</returns>
    public string? Seed(string name, (uint Worker, string Library, string Stream) key, string firstIssueTime, string firstRequester, ulong issueCount)
    {
        if (_rows.ContainsKey(key))
        {
            return $"{name}: the key is listed twice in seeds[]";
        }

        if (!DateTimeOffset.TryParse(firstIssueTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var first))
        {
            return $"{name}: first_issue_time '{firstIssueTime}' is not a time";
        }

        _rows[key] = new Row(name, first.ToUnixTimeMilliseconds(), firstRequester, issueCount);
        return null;
    }

    public void Event(ulong sequence, (uint Worker, string Library, string Stream) key, long unixMs, string requester)
    {
        if (_tallies.TryGetValue(key, out var tally))
        {
            tally.Count++;
        }
        else
        {
            _tallies[key] = new Tally(sequence, unixMs, requester);
        }
    }

    /// <returns>The first disagreement between the table and the events, or null.</returns>
    public string? Disagreement()
    {
        const string Hint = " (a manifest exported while the experiment was issuing: freeze it, then export again)";
        foreach (var (key, row) in _rows)
        {
            if (!_tallies.TryGetValue(key, out var tally))
            {
                return $"{row.Name}: no event in events[] issued it{Hint}";
            }

            if (row.FirstUnixMs != tally.FirstUnixMs || row.FirstRequester != tally.FirstRequester)
            {
                return $"{row.Name}: first issued at {row.FirstUnixMs} ms by '{row.FirstRequester}', says seeds[]; its first event, {tally.FirstSequence}, says at {tally.FirstUnixMs} ms by '{tally.FirstRequester}'";
            }

            if (row.IssueCount != tally.Count)
            {
                return $"{row.Name}: issue_count {row.IssueCount}, but events[] issued it {tally.Count} times{Hint}";
            }
        }

        foreach (var (key, tally) in _tallies)
        {
            if (!_rows.ContainsKey(key))
            {
                return $"event {tally.FirstSequence} issues worker {key.Worker}, library '{key.Library}', stream '{key.Stream}', which seeds[] does not list{Hint}";
            }
        }

        return null;
    }

    private sealed record Row(string Name, long FirstUnixMs, string FirstRequester, ulong IssueCount);

    private sealed class Tally(ulong firstSequence, long firstUnixMs, string firstRequester)
    {
        public ulong FirstSequence { get; } = firstSequence;

        public long FirstUnixMs { get; } = firstUnixMs;

        public string FirstRequester { get; } = firstRequester;

        public ulong Count { get; set; } = 1;
    }
}
