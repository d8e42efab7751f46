using SeedDaemon.Derivation;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Operations;

/// <summary>
/// The daemon's Prometheus metrics, kept with interlocked counters and fixed-bucket histograms
/// (no per-request allocation) and written in the text exposition format at /metrics.
/// </summary>
internal sealed class Metrics : IRecordingObserver
{
    private static readonly double[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
    private static readonly double[] FlushBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    private readonly ConcurrentDictionary<string, Counter> _seedsByLibrary = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Method, string Status), Counter> _requests = new();
    private readonly Histogram _batchSize = new(BatchBuckets);
    private readonly Histogram _flushSeconds = new(FlushBuckets);
    private readonly Histogram _writeSeconds = new(FlushBuckets);
    private readonly Histogram _integrationSeconds = new(IntegrationBuckets);
    private static readonly double[] IntegrationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Counted by canonical library, every other name as "custom": a client cannot grow the label set.</summary>
    public void SeedIssued(string library) =>
        _seedsByLibrary.GetOrAdd(Libraries.CanonicalWidths.ContainsKey(library) ? library : "custom", _ => new Counter()).Increment();

    public void Request(string method, string status) => _requests.GetOrAdd((method, status), _ => new Counter()).Increment();

    public void Committed(int operations, TimeSpan duration)
    {
        _batchSize.Observe(operations);
        _flushSeconds.Observe(duration.TotalSeconds);
    }

    public void Answered(TimeSpan waited) => _writeSeconds.Observe(waited.TotalSeconds);

    public void Integrated(TimeSpan delay) => _integrationSeconds.Observe(delay.TotalSeconds);

    public string Render(StoreStatistics store, IReadOnlyDictionary<string, double> more)
    {
        var text = new StringBuilder();
        Header(text, "seedd_seeds_issued_total", "counter", "Seeds answered, by library (repeats of a key included).");
        foreach (var (library, counter) in _seedsByLibrary.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            Line(text, "seedd_seeds_issued_total", $"library=\"{Escape(library)}\"", counter.Value);
        }

        Header(text, "seedd_requests_total", "counter", "gRPC requests by method and status code.");
        foreach (var ((method, status), counter) in _requests.OrderBy(x => x.Key.Method, StringComparer.Ordinal).ThenBy(x => x.Key.Status, StringComparer.Ordinal))
        {
            Line(text, "seedd_requests_total", $"method=\"{Escape(method)}\",status=\"{status}\"", counter.Value);
        }

        _batchSize.Render(text, "seedd_group_commit_batch_size", "Operations per group commit (one transaction, one fsync).");
        _flushSeconds.Render(text, "seedd_group_commit_flush_seconds", "Time from the start of a group commit to it being durable (fsync, or PostgreSQL's commit).");
        _writeSeconds.Render(text, "seedd_store_write_seconds", "Store latency of a write: from the request handing it to the store to its answer (queue and group commit).");
        _integrationSeconds.Render(text, "seedd_ledger_integration_delay_seconds", "PostgreSQL: time from an entry's issue to its place in the log (in the tree a signed checkpoint covers), observed by the replica that holds the sequencer's lease.");
        Header(text, "seedd_database_bytes", "gauge", "Size of the embedded database file and its log (0 for PostgreSQL).");
        Line(text, "seedd_database_bytes", "", store.Bytes);
        Header(text, "seedd_experiments", "gauge", "Number of experiments (PostgreSQL: those this replica has seen).");
        Line(text, "seedd_experiments", "", store.Experiments);
        foreach (var (name, value) in store.Gauges.Concat(more).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Header(text, name, "gauge", GaugeHelp.GetValueOrDefault(name, name));
            Line(text, name, "", value);
        }
        return text.ToString();
    }

    private static readonly Dictionary<string, string> GaugeHelp = new(StringComparer.Ordinal)
    {
        ["seedd_commits_awaiting_fsync"] = "Group commits the embedded store wrote to its log and has not yet fsynced (normally 0-2; it grows while the disk's fsync hangs).",
        ["seedd_issued_keys"] = "Issued keys held in memory by the embedded store.",
        ["seedd_ledger_events_since_checkpoint"] = "Ledger events the embedded store would replay at the next open.",
        ["seedd_store_connections_in_use"] = "PostgreSQL connections this replica holds (or is opening) for a commit or a read.",
        ["seedd_sequencer_epoch"] = "PostgreSQL: the epoch of the sequencer's lease while this replica holds it (it places the entries every replica issues); 0 when another replica does.",
        ["seedd_sequencer_experiments_held_back"] = "PostgreSQL, on the sequencing replica: experiments whose entries cannot be placed because their records do not fit together (damage; the log names them); their entries wait.",
        ["seedd_store_connections_max"] = "The PostgreSQL connection pool's size (Max Pool Size).",
        ["seedd_scrub_running"] = "1 while a store check (scrub) runs.",
        ["seedd_scrub_records_read"] = "Records (documents, events, seeds, fingerprints) the running or last store check has read.",
        ["seedd_scrub_findings_so_far"] = "Findings of the running or last store check so far.",
        ["seedd_scrub_completed_total"] = "Store checks completed since seedd started.",
        ["seedd_scrub_last_findings"] = "Findings of the last completed store check (-1: none completed yet).",
        ["seedd_scrub_last_completed_timestamp_seconds"] = "When the last store check completed (Unix seconds; 0: none yet).",
    };

    private static void Header(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').AppendLine(help).Append("# TYPE ").Append(name).Append(' ').AppendLine(type);

    private static void Line(StringBuilder text, string name, string labels, double value) =>
        text.Append(name).Append(labels.Length == 0 ? "" : "{" + labels + "}").Append(' ').AppendLine(value.ToString("R", CultureInfo.InvariantCulture));

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private sealed class Counter
    {
        private long _value;

        public long Value => Interlocked.Read(ref _value);

        public void Increment() => Interlocked.Increment(ref _value);
    }

    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length + 1];
        private long _count;
        private double _sum;

        public void Observe(double value)
        {
            // A loop, not a predicate: every group commit and every write observes (no closure per call).
            var bucket = 0;
            while (bucket < bounds.Length && value > bounds[bucket])
            {
                bucket++;
            }

            Interlocked.Increment(ref _counts[bucket]);
            Interlocked.Increment(ref _count);
            double current, updated;
            do
            {
                current = Volatile.Read(ref _sum);
                updated = current + value;
            }
            while (Interlocked.CompareExchange(ref _sum, updated, current) != current);
        }

        public void Render(StringBuilder text, string name, string help)
        {
            Header(text, name, "histogram", help);
            long cumulative = 0;
            for (var i = 0; i < bounds.Length; i++)
            {
                cumulative += Interlocked.Read(ref _counts[i]);
                Line(text, name + "_bucket", $"le=\"{bounds[i].ToString(CultureInfo.InvariantCulture)}\"", cumulative);
            }

            cumulative += Interlocked.Read(ref _counts[bounds.Length]);
            Line(text, name + "_bucket", "le=\"+Inf\"", cumulative);
            Line(text, name + "_sum", "", Volatile.Read(ref _sum));
            Line(text, name + "_count", "", Interlocked.Read(ref _count));
        }
    }
}
