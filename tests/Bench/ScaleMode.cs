using System.Diagnostics;
using SeedDaemon.Client;
using SeedDaemon.Testing;
using SeedDaemon.V1;

namespace SeedDaemon.Bench;

/// <summary>One experiment grown to a million issued seeds: bytes per record, full scan rate, start time and RSS.</summary>
internal static class ScaleMode
{
    public static async Task RunAsync(int records)
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        var grow = Stopwatch.StartNew();
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            using var channel = TestChannels.Create(seedd.Address, maxReceiveMessageSize: 64 << 20);
            var client = new SeedService.SeedServiceClient(channel);
            await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "bench/scale", Root = "11" });
            for (var first = 0; first < records; first += 10_000)
            {
                var request = new BatchGetSeedsRequest();
                for (var i = first; i < Math.Min(records, first + 10_000); i++)
                {
                    request.Requests.Add(new GetSeedRequest { ExperimentId = "bench/scale", Worker = (uint)i, Library = "torch" });
                }

                await client.BatchGetSeedsAsync(request);
            }

            Console.WriteLine($"grew to {records} seeds (and as many ledger events) in {grow.Elapsed.TotalSeconds:F0} s");
            await seedd.StopAsync();
        }

        var bytes = new FileInfo(db).Length + (File.Exists(folder.File("seeds-log.db")) ? new FileInfo(folder.File("seeds-log.db")).Length : 0);
        var started = Stopwatch.StartNew();
        await using var restarted = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        var startSeconds = started.Elapsed.TotalSeconds;
        var rssAfterStart = ProcessMemory.ResidentKilobytes(restarted.Pid);
        long BaselineRssKilobytes;
        using (var empty = new TempFolder())
        {
            await using var fresh = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", empty.File("seeds.db"));
            BaselineRssKilobytes = ProcessMemory.ResidentKilobytes(fresh.Pid);
        }

        using var scanChannel = Channels.Create(new SeedClientOptions { Address = new Uri(restarted.Address) });
        var audit = new AuditService.AuditServiceClient(scanChannel);
        var cold = await ScanAsync(audit, restarted.Pid);
        var rssAfterScan = ProcessMemory.ResidentKilobytes(restarted.Pid);
        var warm = await ScanAsync(audit, restarted.Pid);
        Console.WriteLine($"bytes_per_record = {bytes / (double)records:F0} (file {bytes / (1 << 20)} MiB: seed record + ledger event + indexes; target <= 400)");
        Console.WriteLine($"start_s = {startSeconds:F2} (process launch to serving, with {records} records; target < 2)");
        Console.WriteLine($"rss_mb = {rssAfterStart / 1024.0:F0} after start, {rssAfterScan / 1024.0:F0} after a full scan (target < 300)");
        Console.WriteLine($"scan_records_per_s = {cold.PerSecond:F0} (first full scan after the restart, {cold.Records} records through ListIssuedSeeds in pages of 1,000; target >= 200000)");
        Console.WriteLine($"  {cold}");
        Console.WriteLine($"  second scan: {warm}");
        var opened = await restarted.WaitForOutputAsync("Opened seed database");
        Console.WriteLine($"open: {opened[(opened.IndexOf(']', StringComparison.Ordinal) + 2)..]}");
        Console.WriteLine($"memory_per_key_bytes = {(rssAfterStart - BaselineRssKilobytes) * 1024.0 / records:F0} (RSS after start less a fresh daemon's {BaselineRssKilobytes / 1024} MiB, over {records} keys)");
        await restarted.StopAsync();

        // The same file after a kill -9 with the keys never checkpointed: the open replays the ledger.
        await using (var unclean = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            using var channel = TestChannels.Create(unclean.Address);
            var client = new SeedService.SeedServiceClient(channel);
            for (var first = records; first < records + 200_000; first += 10_000)
            {
                var request = new BatchGetSeedsRequest();
                request.Requests.AddRange(Enumerable.Range(first, 10_000).Select(i => new GetSeedRequest { ExperimentId = "bench/scale", Worker = (uint)i, Library = "torch" }));
                await client.BatchGetSeedsAsync(request);
            }

            ProcessRunner.Signal(unclean.Pid, 9);
        }

        var replayStarted = Stopwatch.StartNew();
        await using var replayed = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        Console.WriteLine($"start_after_kill_s = {replayStarted.Elapsed.TotalSeconds:F2}: {(await replayed.WaitForOutputAsync("Opened seed database")).Split("] ")[1]}");
    }

    private sealed record Scan(long Records, double Seconds, double SeeddMicroseconds, double ClientMicroseconds)
    {
        public double PerSecond => Records / Seconds;

        public override string ToString() =>
            $"{PerSecond:F0} records/s; CPU per record: seedd {SeeddMicroseconds:F1} us, this client {ClientMicroseconds:F1} us; wall {1e6 / PerSecond:F1} us";
    }

    private static async Task<Scan> ScanAsync(AuditService.AuditServiceClient audit, int seeddPid)
    {
        var clock = Stopwatch.StartNew();
        var seeddCpu = ProcessCpu.Used(seeddPid);
        var clientCpu = Process.GetCurrentProcess().TotalProcessorTime;
        long scanned = 0;
        var token = "";
        do
        {
            var page = await audit.ListIssuedSeedsAsync(
                new ListIssuedSeedsRequest { ExperimentId = "bench/scale", PageSize = 1000, PageToken = token },
                deadline: DateTime.UtcNow.AddMinutes(1));
            scanned += page.Seeds.Count;
            token = page.NextPageToken;
        }
        while (token != "");

        var seconds = clock.Elapsed.TotalSeconds;
        return new Scan(
            scanned,
            seconds,
            (ProcessCpu.Used(seeddPid) - seeddCpu).TotalMicroseconds / scanned,
            (Process.GetCurrentProcess().TotalProcessorTime - clientCpu).TotalMicroseconds / scanned);
    }
}
