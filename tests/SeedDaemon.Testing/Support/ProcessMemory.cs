using System.Globalization;

namespace SeedDaemon.Testing;

/// <summary>A process's memory as Linux reports it in /proc/PID/status.</summary>
public static class ProcessMemory
{
    /// <summary>Resident set size now (VmRSS), in KiB.</summary>
    public static long ResidentKilobytes(int pid) => Field(pid, "VmRSS:");

    /// <summary>Peak resident set size (VmHWM), in KiB, since start or since <see cref="ResetPeak"/>.</summary>
    public static long PeakKilobytes(int pid) => Field(pid, "VmHWM:");

    /// <summary>Starts a new peak from the current RSS (writes 5 to /proc/PID/clear_refs).</summary>
    public static void ResetPeak(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");

    private static long Field(int pid, string name)
    {
        // e.g. "VmRSS:\t  167136 kB"
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(name, StringComparison.Ordinal));
        return long.Parse(line[name.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
