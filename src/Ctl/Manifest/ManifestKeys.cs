using System.Globalization;

namespace SeedDaemon.Ctl.Manifest;

/// <summary>
/// seeds[] held against events[], which the chain, the tree and the signature prove. An export reads
/// the seeds first and the events after, so a key issued, or issued again, in between is in events[]
/// with no row or with a lower issue_count: that lag is allowed, and counted. What no export makes
/// is refused: a row whose first issue time or first requester is not its key's first event's, a
/// count above the key's events, a row of a key no event issued, a key listed twice.
/// </summary>
internal sealed class ManifestKeys
{
    private readonly Dictionary<(uint Worker, string Library, string Stream), Row> _rows = [];
    private readonly Dictionary<(uint Worker, string Library, string Stream), Tally> _tallies = [];
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);

    /// <summary>Keys whose issues after the seeds were read show in events[] only.</summary>
    public long Lagging { get; private set; }

    /// <returns>A problem, or null.</returns>
    public string? Seed(long row, (uint Worker, string Library, string Stream) key, string firstIssueTime, string firstRequester, ulong issueCount)
    {
        key = Interned(key);
        if (_rows.ContainsKey(key))
        {
            return $"{Name(row, key)}: the key is listed twice in seeds[]";
        }

        if (!DateTimeOffset.TryParse(firstIssueTime, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var first))
        {
            return $"{Name(row, key)}: first_issue_time '{firstIssueTime}' is not a time";
        }

        _rows[key] = new Row(row, first.ToUnixTimeMilliseconds(), Intern(firstRequester), issueCount);
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
            _tallies[Interned(key)] = new Tally(sequence, unixMs, Intern(requester));
        }
    }

    /// <returns>The first row no export makes, or null; counts the keys that only lag.</returns>
    public string? Disagreement()
    {
        foreach (var (key, row) in _rows)
        {
            if (!_tallies.TryGetValue(key, out var tally))
            {
                return $"{Name(row.Index, key)}: no event in events[] issued it: the table was altered";
            }

            if (row.FirstUnixMs != tally.FirstUnixMs || row.FirstRequester != tally.FirstRequester)
            {
                return $"{Name(row.Index, key)}: first issued at {row.FirstUnixMs} ms by '{row.FirstRequester}', says seeds[]; its first event, {tally.FirstSequence}, says at {tally.FirstUnixMs} ms by '{tally.FirstRequester}': the table was altered";
            }

            if (row.IssueCount == 0 || row.IssueCount > tally.Count)
            {
                return $"{Name(row.Index, key)}: issue_count {row.IssueCount}, but events[] issued it {tally.Count} times: the table was altered";
            }

            if (row.IssueCount < tally.Count)
            {
                Lagging++;
            }
        }

        Lagging += _tallies.Keys.Count(key => !_rows.ContainsKey(key));
        return null;
    }

    private static string Name(long row, (uint Worker, string Library, string Stream) key) =>
        $"seed {row} (worker {key.Worker}, library '{key.Library}', stream '{key.Stream}')";

    private (uint, string, string) Interned((uint Worker, string Library, string Stream) key) => (key.Worker, Intern(key.Library), Intern(key.Stream));

    /// <summary>One string per distinct library, stream and requester: a million keys share a handful.</summary>
    private string Intern(string text)
    {
        if (_strings.TryGetValue(text, out var kept))
        {
            return kept;
        }

        _strings[text] = text;
        return text;
    }

    private readonly record struct Row(long Index, long FirstUnixMs, string FirstRequester, ulong IssueCount);

    private sealed class Tally(ulong firstSequence, long firstUnixMs, string firstRequester)
    {
        public ulong FirstSequence { get; } = firstSequence;

        public long FirstUnixMs { get; } = firstUnixMs;

        public string FirstRequester { get; } = firstRequester;

        public ulong Count { get; set; } = 1;
    }
}
