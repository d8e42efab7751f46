using System.Collections.Concurrent;
using Grpc.Core;
using SeedDaemon.Client;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Replicated;

/// <summary>Several seedd processes over one PostgreSQL database, started together (their schema migrations race).</summary>
internal sealed class Replicas(IReadOnlyList<SeeddProcess> processes) : IAsyncDisposable
{
    public IReadOnlyList<SeeddProcess> Processes { get; } = processes;

    public IEnumerable<string> Addresses => Processes.Select(p => p.Address);

    public static async Task<Replicas> StartAsync(string connectionString, int count) =>
        new(await Task.WhenAll(Enumerable.Range(0, count).Select(_ => SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", connectionString))));

    /// <summary>Each replica answers a few hundred calls first: the measured part does not wait for code to be compiled.</summary>
    public static async Task WarmUpAsync(Replicas replicas, string experiment)
    {
        foreach (var address in replicas.Addresses)
        {
            using var channel = TestChannels.Create(address);
            var client = new SeedService.SeedServiceClient(channel);
            await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = experiment, Root = "1" });
            await Task.WhenAll(Enumerable.Range(0, 300).Select(w => client.GetSeedAsync(new GetSeedRequest { ExperimentId = experiment, Worker = (uint)w, Library = "torch" }).ResponseAsync));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Processes)
        {
            await process.DisposeAsync();
        }
    }
}

/// <summary>
/// Callers asking the replicas through one SDK client (every address given, so the SDK balances and
/// rides through a replica's death): new keys and keys asked for again, remembering every answer that
/// arrived.
/// </summary>
internal sealed class ReplicatedLoad(string experimentId)
{
    private int _next;

    /// <summary>Every acknowledged answer, by worker.</summary>
    public ConcurrentDictionary<uint, ConcurrentBag<IssuedSeed>> Acknowledged { get; } = new();

    public int Failures;

    public async Task RunAsync(IEnumerable<string> addresses, int callers, CancellationToken stop)
    {
        var options = SeedClientOptions.ForAddress(string.Join(',', addresses));
        options.RetryTimeout = TimeSpan.FromSeconds(20);
        options.CallTimeout = TimeSpan.FromSeconds(10);
        using var client = new SeedClient(options);
        await Task.WhenAll(Enumerable.Range(0, callers).Select(async caller =>
        {
            var random = new Random(caller);
            while (!stop.IsCancellationRequested)
            {
                // Two in three calls ask for a new key, one asks for a key already asked for.
                var known = Volatile.Read(ref _next);
                var worker = known > 10 && random.Next(3) == 0 ? (uint)random.Next(known) : (uint)Interlocked.Increment(ref _next);
                try
                {
                    var seed = await client.GetSeedAsync(experimentId, worker, "torch", cancellationToken: stop);
                    Acknowledged.GetOrAdd(worker, _ => []).Add(seed);
                }
                catch (Exception error) when (error is RpcException or OperationCanceledException)
                {
                    Interlocked.Increment(ref Failures);
                }
            }
        }));
    }

    public int Count => Acknowledged.Values.Sum(b => b.Count);

    /// <summary>Waits until at least <paramref name="answers"/> answers were acknowledged, or the time is up; returns the count then.</summary>
    public async Task<int> WaitForAsync(int answers, TimeSpan timeout)
    {
        await Poll.UntilAsync(() => Count >= answers, timeout);
        return Count;
    }
}
