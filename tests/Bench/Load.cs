using System.Diagnostics;
using SeedDaemon.Testing;

namespace SeedDaemon.Bench;

/// <summary>A closed-loop load: C callers each calling back to back for a fixed time.</summary>
internal static class Load
{
    /// <param name="ServerCpuMicroseconds">The daemons' CPU time (all threads) per call, when their pids were given.</param>
    public sealed record Result(long Calls, double Seconds, double P50Ms, double P99Ms, double P999Ms, double ServerCpuMicroseconds)
    {
        public double PerSecond => Calls / Seconds;

        public override string ToString() =>
            $"{PerSecond,10:F0}/s  p50 {P50Ms,7:F3} ms  p99 {P99Ms,7:F3} ms  p99.9 {P999Ms,7:F3} ms" +
            (double.IsNaN(ServerCpuMicroseconds) ? "" : $"  seedd CPU {ServerCpuMicroseconds,6:F1} us/call");
    }

    /// <param name="serverPids">The daemon processes whose CPU time (all threads, summed) is reported per call.</param>
    public static async Task<Result> RunAsync(int callers, TimeSpan duration, Func<Task> call, int[]? serverPids = null)
    {
        var cpuBefore = Cpu(serverPids);
        var latencies = new List<long>[callers];
        var stopwatch = Stopwatch.StartNew();
        var end = duration.Ticks;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async c =>
        {
            var mine = latencies[c] = new List<long>(1 << 14);
            while (stopwatch.Elapsed.Ticks < end)
            {
                var started = Stopwatch.GetTimestamp();
                await call();
                mine.Add(Stopwatch.GetTimestamp() - started);
            }
        }));
        var seconds = stopwatch.Elapsed.TotalSeconds;
        var cpu = serverPids is null ? double.NaN : (Cpu(serverPids) - cpuBefore).TotalMicroseconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double p) => all.Length == 0 ? 0 : all[Math.Min(all.Length - 1, (int)(p * all.Length))] * 1000.0 / Stopwatch.Frequency;
        return new Result(all.Length, seconds, Percentile(0.5), Percentile(0.99), Percentile(0.999), cpu / Math.Max(1, all.Length));
    }

    public static TimeSpan Cpu(int[]? pids) => pids is null ? TimeSpan.Zero : pids.Aggregate(TimeSpan.Zero, (sum, pid) => sum + ProcessCpu.Used(pid));

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
