using System.Collections.Concurrent;
using Grpc.Core;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Processes;

/// <summary>Callers asking for new keys as fast as they can, remembering every seed whose reply arrived.</summary>
internal sealed class LoadGenerator(string experimentId, ConcurrentDictionary<uint, IssuedSeed> acknowledged)
{
    private int _nextWorker = acknowledged.IsEmpty ? 0 : (int)acknowledged.Keys.Max() + 1;

    public async Task RunAsync(string address, int callers, CancellationToken stop)
    {
        using var channel = TestChannels.Create(address);
        var client = new SeedService.SeedServiceClient(channel);
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var worker = (uint)Interlocked.Increment(ref _nextWorker);
                try
                {
                    var seed = await client.GetSeedAsync(new GetSeedRequest { ExperimentId = experimentId, Worker = worker, Library = "torch" }, deadline: DateTime.UtcNow.AddSeconds(10));
                    acknowledged[worker] = seed;
                }
                catch (RpcException)
                {
                    // The daemon went away mid-call: this key was not acknowledged.
                    return;
                }
            }
        }));
    }

    /// <summary>Every acknowledged seed is stored with the same value and first issue time.</summary>
    public static async Task VerifyAsync(string address, string experimentId, ConcurrentDictionary<uint, IssuedSeed> acknowledged, string when)
    {
        using var channel = TestChannels.Create(address);
        var audit = new AuditService.AuditServiceClient(channel);
        var stored = (await audit.IssuedSeedsAsync(experimentId)).ToDictionary(s => s.Worker);

        foreach (var (worker, seed) in acknowledged)
        {
            Assert.True(stored.TryGetValue(worker, out var found), $"acknowledged seed of worker {worker} lost {when}");
            Assert.Equal(seed.Seed64, found.Seed64);
            Assert.Equal(seed.FirstIssueTime, found.FirstIssueTime);
        }
    }
}
