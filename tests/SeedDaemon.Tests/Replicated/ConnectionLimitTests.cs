using Grpc.Core;
using Grpc.Health.V1;
using Npgsql;
using SeedDaemon.Derivation;
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
    public async Task Bursts_of_new_workers_on_a_replica_that_has_not_read_their_experiments_yet_are_answered_within_six_connections()
    {
        // The pool may open 100: only the replica's own reads can keep the burst within the role's 6
        // (one read per experiment, the writer's transaction and the sequencer's need 5 at most).
        await using var seedd = await StartLimitedAsync(connectionLimit: 6, ";Maximum Pool Size=100");

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
        // A read waits up to Timeout for a connection: 30 s, as the test is about the pool's size, not about a loaded machine's speed.
        await using var seedd = await StartLimitedAsync(connectionLimit: 12, ";Timeout=30");
        using var channel = TestChannels.Create(seedd.Address);
        var client = new SeedService.SeedServiceClient(channel);
        await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "limit/reads", Root = "6" });

        var refused = await RefusedAsync(200, _ => client.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "limit/reads" }).ResponseAsync);
        Assert.True(refused.Count == 0, $"{refused.Count} of 200 refused, first: {refused.FirstOrDefault()}");
    }

    [Fact]
    public async Task A_read_that_waits_past_the_timeout_for_a_pooled_connection_is_UNAVAILABLE_naming_the_pool_and_the_replica_stays_SERVING()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("pool");
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database) + ";Maximum Pool Size=1;Timeout=1");
        using var channel = TestChannels.Create(seedd.Address);
        var client = new SeedService.SeedServiceClient(channel);

        // On a loaded machine, connecting (a new backend, SCRAM) can itself take longer than the 1 s
        // Timeout: the create is retried until the pool's one connection is open; it stays open.
        await Poll.ForAsync(async () =>
        {
            try
            {
                await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "pool/held", Root = "7" });
                return true;
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.Unavailable)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "the replica to create the experiment");

        // A transaction of the test's own locks the experiment's row: the replica's next commit waits for it on the pool's one connection.
        await using var held = await HeldLock.TakeAsync(cluster, database, "SELECT 1 FROM seedd_experiments WHERE id = 'pool/held' FOR UPDATE");
        var waiting = client.GetSeedAsync(new GetSeedRequest { ExperimentId = "pool/held", Worker = 1, Library = "torch" }).ResponseAsync;
        await Poll.ForAsync(async () => await cluster.SeeddWaitingOnLocksAsync(database) > 0, TimeSpan.FromSeconds(30), "the replica's commit to wait on the lock");
        Assert.Equal(1, await cluster.SeeddWaitingOnLocksAsync(database));

        var refused = await Assert.ThrowsAsync<RpcException>(() => client.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "pool/held" }).ResponseAsync);
        Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
        Assert.Contains("waited 1 s for one of its 1 connections (Maximum Pool Size)", refused.Status.Detail, StringComparison.Ordinal);
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);

        await held.ReleaseAsync();
        Assert.Equal(SeedSeqV1.Derive(7, 1, "torch", "").Seed64, (await waiting).Seed64);
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
