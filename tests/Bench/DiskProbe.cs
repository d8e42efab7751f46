using System.Diagnostics;

namespace SeedDaemon.Bench;

/// <summary>
/// What one fsync costs on the disk the daemon's database is on: 16 KiB appended (two LiteDB
/// pages, about what a group commit writes to its log) then synced, measured in this process.
/// Kernel time spent in fsync is CPU the daemon pays once per group commit.
/// </summary>
internal static class DiskProbe
{
    public static string Fsync(string folder, int calls = 2000)
    {
        var path = Path.Combine(folder, "fsync-probe.bin");
        try
        {
            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
            var block = new byte[16 * 1024];
            var self = Process.GetCurrentProcess();
            var cpuBefore = self.TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            for (var i = 0; i < calls; i++)
            {
                file.Write(block);
                file.Flush(flushToDisk: true);
            }

            wall.Stop();
            self.Refresh();
            var cpu = self.TotalProcessorTime - cpuBefore;
            return $"fsync on this disk (16 KiB appended, then synced; {calls} calls): {wall.Elapsed.TotalMicroseconds / calls:F0} us wall, {cpu.TotalMicroseconds / calls:F0} us CPU a call";
        }
        finally
        {
            File.Delete(path);
        }
    }
}
