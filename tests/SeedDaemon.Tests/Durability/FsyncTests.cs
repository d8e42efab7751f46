using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// The real medium, observed: strace (Debian's) attached to a real seedd counts the fsync and
/// fdatasync calls that complete on its database files. The simulated-disk tests cannot see whether
/// a flush reaches the disk; this one fails when seedd stops asking the kernel to make it durable.
/// </summary>
public sealed partial class FsyncTests
{
    private const int Keys = 20;

    [Fact]
    public async Task Every_sequential_new_key_is_answered_only_after_an_fsync_of_the_database_completed()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        using var channel = TestChannels.Create(seedd.Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "fsync/e", Root = "1" });

        var trace = folder.File("trace.txt");
        using var strace = Process.Start(new ProcessStartInfo("strace", ["-f", "-p", seedd.Pid.ToString(CultureInfo.InvariantCulture), "-y", "-ttt", "-T", "-e", "trace=fsync,fdatasync", "-o", trace])
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var attached = await WaitForAttachAsync(strace);

        var answered = new List<double>();
        for (uint worker = 0; worker < Keys; worker++)
        {
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "fsync/e", Worker = worker, Library = "torch" });
            answered.Add(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        }

        ProcessRunner.Signal(strace.Id, 2);
        await strace.WaitForExitAsync();

        // "<tid> <entry time> fsync(<fd></path>) = 0 <duration>": completed at entry + duration.
        var completed = File.ReadAllLines(trace)
            .Select(l => Call().Match(l))
            .Where(m => m.Success && m.Groups["path"].Value.StartsWith(folder.Path, StringComparison.Ordinal))
            .Select(m => double.Parse(m.Groups["at"].Value, CultureInfo.InvariantCulture) + double.Parse(m.Groups["took"].Value, CultureInfo.InvariantCulture))
            .Order()
            .ToList();
        Assert.True(completed.Count >= Keys, $"{completed.Count} fsync/fdatasync calls on {folder.Path} for {Keys} sequential new keys ({attached}); trace:\n{string.Join('\n', File.ReadLines(trace).Take(40))}");

        // The i-th answer arrived after at least i+1 syncs had completed (a 5 ms allowance for the two clocks' reads).
        for (var i = 0; i < Keys; i++)
        {
            var before = completed.Count(t => t <= answered[i] + 0.005);
            Assert.True(before >= i + 1, $"answer {i + 1} arrived when only {before} syncs had completed");
        }
    }

    private static async Task<string> WaitForAttachAsync(Process strace)
    {
        var line = await strace.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(line is not null && line.Contains("attached", StringComparison.Ordinal), $"strace did not attach (is ptrace allowed here?): {line}");
        _ = strace.StandardError.ReadToEndAsync();
        return line!;
    }

    [GeneratedRegex(@"^\d+\s+(?<at>\d+\.\d+) f(?:data)?sync\(\d+<(?<path>[^>]+)>\)\s+=\s+0\s+<(?<took>\d+\.\d+)>")]
    private static partial Regex Call();
}
