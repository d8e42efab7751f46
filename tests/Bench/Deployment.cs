using Grpc.Net.Client;
using SeedDaemon.Client;
using SeedDaemon.Testing;

namespace SeedDaemon.Bench;

/// <summary>
/// What a benchmark runs against: one seedd over its own LiteDB file, or N seedd replicas over a
/// PostgreSQL server of the run's own (--postgres [--replicas N] [--standby] [--commit-delay-us N]: with a synchronous standby; every commit N us slower). Clients get one channel balanced
/// over every replica, as the SDK builds it for SEEDD_ADDRESS=a,b,c.
/// </summary>
internal sealed class Deployment : IAsyncDisposable
{
    private readonly TempFolder _folder;
    private readonly PostgresCluster? _cluster;
    private readonly PostgresCluster? _standby;

    private Deployment(TempFolder folder, PostgresCluster? cluster, IReadOnlyList<SeeddProcess> replicas, string? postgres = null, PostgresCluster? standby = null)
    {
        _folder = folder;
        _cluster = cluster;
        _standby = standby;
        Replicas = replicas;
        PostgresConnection = postgres;
    }

    /// <summary>The PostgreSQL database's connection string; null for the embedded store.</summary>
    public string? PostgresConnection { get; }

    public IReadOnlyList<SeeddProcess> Replicas { get; }

    public int[] Pids => Replicas.Select(r => r.Pid).ToArray();

    /// <summary>The embedded database's folder; null for PostgreSQL.</summary>
    public string? DatabaseFolder => _cluster is null ? _folder.Path : null;

    public string Description => _cluster is null
        ? $"seedd (LiteDB {_folder.File("seeds.db")})"
        : $"{Replicas.Count} seedd replica(s) over PostgreSQL 15 on 127.0.0.1:{_cluster.Port}" + (_standby is null ? "" : $" with a synchronous standby on 127.0.0.1:{_standby.Port}")
          + (CommitDelayUs > 0 ? $", commit_delay {CommitDelayUs} us" : "");

    /// <summary>PostgreSQL's commit_delay (--commit-delay-us): every commit made that much slower; 0 when not set.</summary>
    public static int CommitDelayUs { get; private set; }

    /// <summary>The PostgreSQL server (null for the embedded store).</summary>
    public PostgresCluster? Cluster => _cluster;

    public static async Task<Deployment> StartAsync(string[] args, params string[] extra)
    {
        var folder = new TempFolder();
        if (!args.Contains("--postgres"))
        {
            string[] embedded = ["--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"), .. extra];

            // SEEDD_BENCH_DLL: another build of seedd (an earlier release, built from history) measured the same way.
            return new Deployment(folder, null, [Environment.GetEnvironmentVariable("SEEDD_BENCH_DLL") is { Length: > 0 } dll
                ? await SeeddProcess.StartDllAsync(dll, new Dictionary<string, string?>(), embedded)
                : await SeeddProcess.StartAsync(embedded)]);
        }

        var replicas = BenchArgs.Int(args, "--replicas", 1);
        var cluster = await PostgresCluster.StartAsync();
        var connection = cluster.ConnectionString(await cluster.CreateDatabaseAsync("bench"));
        PostgresCluster? standby = null;
        if (args.Contains("--standby"))
        {
            // Every commit waits for the standby to have it (synchronous_commit=on, as seedd sets it).
            standby = await cluster.CreateStandbyAsync("bench_standby");
            await cluster.ExecuteAsync("postgres", "ALTER SYSTEM SET synchronous_standby_names = '*'");
            await cluster.ExecuteAsync("postgres", "SELECT pg_reload_conf()");
            await Poll.ForAsync(async () => await cluster.ScalarAsync<long>("postgres", "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'") == 1, TimeSpan.FromSeconds(60), "the standby to be synchronous");
        }

        CommitDelayUs = BenchArgs.Int(args, "--commit-delay-us", 0);
        if (CommitDelayUs > 0)
        {
            // A slower commit (a standby in another zone, a network disk): each WAL flush waits this long first,
            // and the commits that arrive meanwhile share it (commit_siblings = 0: always).
            await cluster.ExecuteAsync("postgres", $"ALTER SYSTEM SET commit_delay = {CommitDelayUs}");
            await cluster.ExecuteAsync("postgres", "ALTER SYSTEM SET commit_siblings = 0");
            await cluster.ExecuteAsync("postgres", "SELECT pg_reload_conf()");
        }

        var processes = await Task.WhenAll(Enumerable.Range(0, replicas).Select(_ => Environment.GetEnvironmentVariable("SEEDD_BENCH_DLL") is { Length: > 0 } dll
            ? SeeddProcess.StartDllAsync(dll, new Dictionary<string, string?>(), ["--listen", "127.0.0.1:0", "--postgres", connection, .. extra])
            : SeeddProcess.StartAsync(["--listen", "127.0.0.1:0", "--postgres", connection, .. extra])));
        return new Deployment(folder, cluster, processes, connection, standby);
    }

    /// <summary>A channel to every replica (balanced when there are several), with the SDK's settings.</summary>
    public GrpcChannel Channel() => Channels.Create(SeedClientOptions.ForAddress(string.Join(',', Replicas.Select(r => r.Address))));

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in Replicas)
        {
            await replica.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        if (_standby is not null)
        {
            await _standby.DisposeAsync();
        }

        _folder.Dispose();
    }
}
