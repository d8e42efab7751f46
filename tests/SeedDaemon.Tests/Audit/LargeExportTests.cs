using System.Diagnostics;
using SeedDaemon.V1;
using Xunit.Abstractions;
using Ctl = SeedDaemon.Testing.Seedctl;

namespace SeedDaemon.Tests.Audit;

/// <summary>A 1,000,000-event experiment exports and verifies in bounded memory.</summary>
public sealed class LargeExportTests(ITestOutputHelper output)
{
    private const int Events = 1_000_000;
    private const int Batch = 10_000;

    [Fact]
    public async Task A_million_event_export_completes_in_bounded_memory()
    {
        using var folder = new TempFolder();
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        using (var channel = TestChannels.Create(seedd.Address, maxReceiveMessageSize: 64 << 20))
        {
            var client = new SeedService.SeedServiceClient(channel);
            await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "large/export", Root = "2026" });
            var started = Stopwatch.StartNew();
            for (var b = 0; b < Events / Batch; b++)
            {
                var request = new BatchGetSeedsRequest();
                for (var i = 0; i < Batch; i++)
                {
                    // 100,000 keys asked for ten times each: a million events.
                    request.Requests.Add(new GetSeedRequest { ExperimentId = "large/export", Worker = (uint)(((b % 10) * Batch) + i), Library = "torch" });
                }

                await client.BatchGetSeedsAsync(request);
            }

            output.WriteLine($"issued {Events} events in {started.Elapsed.TotalSeconds:F1} s");
        }

        // The daemon's peak RSS from here on is the export's alone.
        ProcessMemory.ResetPeak(seedd.Pid);
        var manifest = folder.File("manifest.json");
        var export = await Measured("export", "large/export", "-o", manifest, "--quiet", "--address", seedd.Address);
        var daemonPeak = ProcessMemory.PeakKilobytes(seedd.Pid);
        var verify = await Measured("verify-manifest", manifest);

        output.WriteLine($"manifest {new FileInfo(manifest).Length / (1 << 20)} MiB; export {export.Seconds:F1} s, seedctl peak RSS {export.PeakKb / 1024} MiB, daemon peak RSS during export {daemonPeak / 1024} MiB; verify-manifest {verify.Seconds:F1} s, peak RSS {verify.PeakKb / 1024} MiB");
        Assert.Contains("1000000", verify.Stdout, StringComparison.Ordinal);
        Assert.InRange(export.PeakKb, 1, 300 * 1024);
        Assert.InRange(verify.PeakKb, 1, 300 * 1024);
        Assert.InRange(daemonPeak, 1, 600 * 1024);
    }

    private static async Task<(double Seconds, long PeakKb, string Stdout)> Measured(params string[] args)
    {
        var result = await ProcessRunner.RunAsync("/usr/bin/time", ["-v", "dotnet", TestPaths.SeedctlDll, .. args], timeout: TimeSpan.FromMinutes(10));
        Assert.True(result.ExitCode == 0, $"seedctl {args[0]} failed: {result.Stderr}");
        var seconds = result.Stderr.Split('\n').First(l => l.Contains("Elapsed (wall clock)", StringComparison.Ordinal)).Split(": ")[^1].Split(':').Aggregate(0.0, (total, part) => (total * 60) + double.Parse(part, System.Globalization.CultureInfo.InvariantCulture));
        var peak = result.Stderr.Split('\n').First(l => l.Contains("Maximum resident set size (kbytes):", StringComparison.Ordinal)).Split(':')[^1].Trim();
        return (seconds, long.Parse(peak, System.Globalization.CultureInfo.InvariantCulture), result.Stdout);
    }
}
