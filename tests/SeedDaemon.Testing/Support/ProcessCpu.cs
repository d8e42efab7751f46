using System.Globalization;

namespace SeedDaemon.Testing;

/// <summary>A process's CPU time as Linux reports it in /proc/PID/stat (user + system, all threads).</summary>
public static class ProcessCpu
{
    public static TimeSpan Used(int pid)
    {
        // The command name (field 2) may contain spaces; the fields after its closing ')' are fixed.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / (double)TicksPerSecond);
    }

    // USER_HZ: 100 on every Linux architecture .NET runs on.
    private const int TicksPerSecond = 100;
}
