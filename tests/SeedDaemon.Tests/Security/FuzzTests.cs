using System.Globalization;
using Grpc.Core;
using SeedDaemon.V1;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Security;

/// <summary>
/// The fuzzing campaign against a real seedd process: 100,000 generated and mutated requests by
/// default (SEEDD_FUZZ_REQUESTS for a longer run). The process stays up, nothing comes back
/// UNKNOWN or INTERNAL, its peak memory stays bounded, seeds are issued, and the ledger holds exactly one event per seed the
/// daemon said it issued: rejected requests write nothing.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Generated_and_mutated_requests_never_crash_leak_or_write()
    {
        var requests = int.TryParse(Environment.GetEnvironmentVariable("SEEDD_FUZZ_REQUESTS"), out var configured) ? configured : 100_000;
        var seed = TestRandom.Seed();
        using var folder = new TempFolder();
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        using var channel = TestChannels.Create(seedd.Address);
        var client = new SeedService.SeedServiceClient(channel);
        await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "fuzz/exp", Root = "1" });
        await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "fuzz/frozen", Root = "2" });
        await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "fuzz/frozen", Worker = 0, Library = "torch" });
        await client.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = "fuzz/frozen" });

        ProcessMemory.ResetPeak(seedd.Pid);
        var fuzzer = new Fuzzer(channel, seed);
        var started = DateTime.UtcNow;
        await fuzzer.RunAsync(requests, 16);
        var statuses = string.Join(", ", fuzzer.Statuses.OrderByDescending(s => s.Value).Select(s => $"{s.Key} {s.Value}"));
        output.WriteLine($"random seed {seed}: {fuzzer.Sent} requests in {(DateTime.UtcNow - started).TotalSeconds:F0} s: {statuses}; {fuzzer.IssuedKeys} seeds issued");

        output.WriteLine(string.Join("\n", fuzzer.ByMethod.OrderBy(m => m.Key.Method, StringComparer.Ordinal).Select(m => $"  {m.Key.Method} {m.Key.Status}: {m.Value}")));
        Assert.Equal(requests, fuzzer.Sent);
        Assert.False(fuzzer.Statuses.ContainsKey(StatusCode.Unknown), $"UNKNOWN came back: {statuses}");
        Assert.False(fuzzer.Statuses.ContainsKey(StatusCode.Internal), $"INTERNAL came back: {statuses}");
        Assert.False(fuzzer.Statuses.ContainsKey(StatusCode.Unavailable), $"the daemon became unavailable: {statuses}\n{seedd.Output}");
        Assert.True(fuzzer.Statuses.GetValueOrDefault(StatusCode.InvalidArgument) > requests / 4, "most mutated requests should be INVALID_ARGUMENT");

        // A daemon refusing everything would pass every check above: the campaign must have issued seeds.
        Assert.True(fuzzer.IssuedKeys >= 10 && fuzzer.Statuses.GetValueOrDefault(StatusCode.OK) > requests / 100, $"only {fuzzer.IssuedKeys} seeds were issued in {requests} requests: {statuses}");

        // The peak (VmHWM, reset after start-up), not the size at the end: a burst freed before the end still counts.
        var peakKb = ProcessMemory.PeakKilobytes(seedd.Pid);
        output.WriteLine($"daemon peak RSS during the campaign: {peakKb / 1024} MiB (now {ProcessMemory.ResidentKilobytes(seedd.Pid) / 1024} MiB)");
        Assert.InRange(peakKb, 1, 512 * 1024);

        // The ledger holds one event per seed the daemon said it issued, and every chain verifies.
        var audit = new AuditService.AuditServiceClient(channel);
        ulong events = 0;
        var token = "";
        do
        {
            var page = await client.ListExperimentsAsync(new ListExperimentsRequest { PageSize = 1000, PageToken = token });
            foreach (var experiment in page.Experiments)
            {
                var ledger = await audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = experiment.ExperimentId });
                Assert.True(ledger.Ok, $"{experiment.ExperimentId}: {ledger.Reason}");
                events += ledger.EventsChecked;
            }

            token = page.NextPageToken;
        }
        while (token != "");

        Assert.Equal((ulong)fuzzer.IssuedKeys + 1, events);
    }
}
