namespace SeedDaemon.Daemon.Audit;

/// <summary>
/// The scrub as /metrics shows it: whether one runs, what it has read and found so far, and the last
/// completed one. Also the gate that lets one scrub run at a time.
/// </summary>
internal sealed class ScrubState
{
    private int _running;
    private long _read;
    private long _found;
    private long _completedRuns;
    private long _lastFindings = -1;
    private long _lastCompletedUnix;

    public DateTime StartedAt { get; private set; }

    public bool TryBegin()
    {
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0)
        {
            return false;
        }

        StartedAt = DateTime.UtcNow;
        Interlocked.Exchange(ref _read, 0);
        Interlocked.Exchange(ref _found, 0);
        return true;
    }

    public void Read(long records) => Interlocked.Add(ref _read, records);

    public void Found() => Interlocked.Increment(ref _found);

    public void Completed(ScrubSummary summary)
    {
        Interlocked.Exchange(ref _lastFindings, summary.Findings);
        Interlocked.Exchange(ref _lastCompletedUnix, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Interlocked.Increment(ref _completedRuns);
    }

    public void End() => Volatile.Write(ref _running, 0);

    /// <summary>The gauges /metrics renders (their help texts are in Metrics).</summary>
    public IReadOnlyDictionary<string, double> Gauges => new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["seedd_scrub_running"] = Volatile.Read(ref _running),
        ["seedd_scrub_records_read"] = Interlocked.Read(ref _read),
        ["seedd_scrub_findings_so_far"] = Interlocked.Read(ref _found),
        ["seedd_scrub_completed_total"] = Interlocked.Read(ref _completedRuns),
        ["seedd_scrub_last_findings"] = Interlocked.Read(ref _lastFindings),
        ["seedd_scrub_last_completed_timestamp_seconds"] = Interlocked.Read(ref _lastCompletedUnix),
    };
}
