using Grpc.Core;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Replicated;

/// <summary>
/// A replica stays within the connections PostgreSQL grants it. PostgreSQL refuses connections past
/// its limit (53300), and Npgsql then marks the host offline for seconds, so every call fails. Each
/// test connects as a role with a CONNECTION LIMIT and sends a burst that would open far more.
/// </summary>
public sealed class ConnectionLimitTests
{
    [Fact]
    public async Task Bursts_of_new_workers_on_a_replica_that_has_not_read_their_experiments_yet_are_answered_within_four_connections()
    {
        // The pool may open 100: only the replica's own reads can keep the burst within the role's 4.
        await using var seedd = await StartLimitedAsync(connectionLimit: 4, ";Maximum Pool Size=100");

        // Three experiments, each asked for by 300 workers at once over a channel of its own (100 streams each).
        var channels = Enumerable.Range(0, 3).Select(_ => TestChannels.Create(seedd.Address)).ToList();
        try
        {
            var clients = channels.Select(c => new SeedService.SeedServiceClient(c)).ToList();
            for (var e = 0; e < 3; e++)
            {
                await clients[e].CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = $"limit/burst-{e}", Root = "5" });
            }

            var refused = await RefusedAsync(900, i => clients[i % 3].GetSeedAsync(new GetSeedRequest { ExperimentId = $"limit/burst-{i % 3}", Worker = (uint)(i / 3), Library = "torch" }).ResponseAsync);
            Assert.True(refused.Count == 0, $"{refused.Count} of 900 refused, first: {refused.FirstOrDefault()}");
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_burst_of_reads_waits_for_the_default_pool_of_ten_connections()
    {
        await using var seedd = await StartLimitedAsync(connectionLimit: 12, "");
        using var channel = TestChannels.Create(seedd.Address);
        var client = new SeedService.SeedServiceClient(channel);
        await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "limit/reads", Root = "6" });

        var refused = await RefusedAsync(200, _ => client.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "limit/reads" }).ResponseAsync);
        Assert.True(refused.Count == 0, $"{refused.Count} of 200 refused, first: {refused.FirstOrDefault()}");
    }

    /// <summary>Makes <paramref name="count"/> calls at once; the status and detail of each one refused.</summary>
    private static async Task<List<string>> RefusedAsync(int count, Func<int, Task> call)
    {
        var answers = await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            try
            {
                await call(i);
                return null;
            }
            catch (RpcException error)
            {
                return $"{error.StatusCode}: {error.Status.Detail}";
            }
        }));
        return answers.OfType<string>().ToList();
    }

    /// <summary>A replica connected as a new role that owns a new database and may hold <paramref name="connectionLimit"/> connections.</summary>
    private static async Task<SeeddProcess> StartLimitedAsync(int connectionLimit, string extra)
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("limit");
        var role = $"limited_{Guid.NewGuid():N}"[..20];
        await cluster.ExecuteAsync(database, $"CREATE ROLE {role} LOGIN PASSWORD 'limited-secret' CONNECTION LIMIT {connectionLimit}; ALTER DATABASE \"{database}\" OWNER TO {role}; ALTER SCHEMA public OWNER TO {role}");
        return await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database, role, "limited-secret") + extra);
    }
}
