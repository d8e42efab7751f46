using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using SeedDaemon.Client;
using SeedDaemon.Testing;
using SeedDaemon.V1;

namespace SeedDaemon.Bench;

/// <summary>
/// A fleet restart: N processes (16,384 by default) each open their own channel to every replica, as
/// the SDK does, and ask once: a BatchGetSeeds of 8 keys in one experiment. Beside each such fleet, a
/// baseline fleet of as many processes that only call the health Check once on fresh connections;
/// the two alternate. On PostgreSQL, also what PostgreSQL itself does with the same rows: a pgbench
/// script writing each process's 8 key records and 8 log entries in one transaction, with the same
/// synchronous_commit. After each fleet, how long until a signed checkpoint covers all its entries.
/// </summary>
internal static class FleetMode
{
    private static readonly string[] Libraries = ["python", "numpy", "torch", "torch.cuda", "tensorflow", "jax", "sklearn", "dotnet"];

    public static async Task RunAsync(string[] args)
    {
        var processes = BenchArgs.Int(args, "--processes", 16_384);
        var atOnce = BenchArgs.Int(args, "--at-once", 2048);
        var rounds = BenchArgs.Int(args, "--rounds", 2);
        await using var deployment = await Deployment.StartAsync(args, "--http-listen", "127.0.0.1:0");
        Console.WriteLine($"{deployment.Description}; {Environment.ProcessorCount} cores; {processes} processes x {Libraries.Length} keys, at most {atOnce} starting at once");
        var options = SeedClientOptions.ForAddress(string.Join(',', deployment.Replicas.Select(r => r.Address)));
        using var admin = Channels.Create(options);
        var seeds = new SeedService.SeedServiceClient(admin);
        var audit = new AuditService.AuditServiceClient(admin);

        // A small fleet of each kind first: the measured ones do not wait for code to be compiled.
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "bench/fleet-warm-up", Root = "3" });
        await FleetAsync(512, atOnce, options, Health);
        await FleetAsync(512, atOnce, options, (channel, i) => Seeds(channel, "bench/fleet-warm-up", i));

        var ratios = new List<double>();
        var rates = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var experiment = $"bench/fleet-{round}";
            await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = experiment, Root = "7" });
            var health = await FleetAsync(processes, atOnce, options, Health);
            var cpu = Load.Cpu(deployment.Pids);
            var fleet = await FleetAsync(processes, atOnce, options, (channel, i) => Seeds(channel, experiment, i));
            var seeddCpu = Load.Cpu(deployment.Pids) - cpu;
            var integrated = await IntegratedAsync(audit, experiment, (long)processes * Libraries.Length);
            ratios.Add(fleet.Seconds / health.Seconds);
            rates.Add(processes / fleet.Seconds);
            Console.WriteLine($"round {round}: health fleet {health.Seconds:F2} s (p99 {health.P99Ms:F0} ms); seeds fleet {fleet.Seconds:F2} s (p99 {fleet.P99Ms:F0} ms, {processes / fleet.Seconds:F0} processes/s, seedd CPU {seeddCpu.TotalMicroseconds / processes:F0} us a process); seeds/health = {fleet.Seconds / health.Seconds:F2}; all {processes * Libraries.Length} entries in a signed checkpoint {integrated.TotalMilliseconds:F0} ms after the last answer{(health.Retries + fleet.Retries > 0 ? $"; calls made again after UNAVAILABLE: {health.Retries} health, {fleet.Retries} seeds" : "")}");
        }

        Console.WriteLine($"fleet_seeds/health_time = {Load.Median(ratios):F2} (median of {rounds}; goal <= 1.25)");
        if (deployment.Cluster is { } cluster && await cluster.ScalarAsync<bool>(Database(deployment.PostgresConnection!), "SELECT to_regclass('seedd_pending_entries') IS NOT NULL"))
        {
            var pgbench = await PgbenchAsync(cluster, deployment.PostgresConnection!, processes);
            Console.WriteLine($"pgbench: {pgbench:F0} transactions/s of 8 key records + 8 log entries each (64 connections, synchronous_commit=on)");
            Console.WriteLine($"fleet_seeds/pgbench_rate = {Load.Median(rates) / pgbench:F2} (processes/s over pgbench transactions/s; goal >= 0.8)");
        }

        foreach (var replica in deployment.Replicas)
        {
            Console.WriteLine(await IntegrationProfile(replica.Output));
        }
    }

    private static async Task Health(GrpcChannel channel, int process) =>
        await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddMinutes(2));

    private static async Task Seeds(GrpcChannel channel, string experiment, int process)
    {
        var request = new BatchGetSeedsRequest();
        request.Requests.AddRange(Libraries.Select(l => new GetSeedRequest { ExperimentId = experiment, Worker = (uint)process, Library = l }));
        await new SeedService.SeedServiceClient(channel).BatchGetSeedsAsync(request, deadline: DateTime.UtcNow.AddMinutes(2));
    }

    /// <param name="Retries">Calls answered UNAVAILABLE (a connection refused or reset) and made again, as the SDK would.</param>
    private sealed record Fleet(double Seconds, double P99Ms, int Retries);

    /// <summary>Every process with a channel of its own (new connections to every replica), at most <paramref name="atOnce"/> at a time.</summary>
    private static async Task<Fleet> FleetAsync(int processes, int atOnce, SeedClientOptions options, Func<GrpcChannel, int, Task> call)
    {
        using var gate = new SemaphoreSlim(atOnce);
        var latencies = new double[processes];
        var retries = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, processes).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var started = clock.Elapsed;
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        using var channel = Channels.Create(options);
                        await call(channel, i);
                        break;
                    }
                    catch (RpcException error) when (error.StatusCode == StatusCode.Unavailable && attempt < 5)
                    {
                        Interlocked.Increment(ref retries);
                        await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
                    }
                }

                latencies[i] = (clock.Elapsed - started).TotalMilliseconds;
            }
            finally
            {
                gate.Release();
            }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        Array.Sort(latencies);
        return new Fleet(seconds, latencies[(int)(processes * 0.99)], retries);
    }

    /// <summary>From the fleet's last answer until a signed checkpoint covers every entry it issued.</summary>
    private static async Task<TimeSpan> IntegratedAsync(AuditService.AuditServiceClient audit, string experiment, long entries)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            try
            {
                if ((await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = experiment })).TreeSize >= entries)
                {
                    return clock.Elapsed;
                }
            }
            catch (Grpc.Core.RpcException error) when (error.StatusCode == Grpc.Core.StatusCode.Unavailable)
            {
                // Nothing placed yet.
            }

            await Task.Delay(5);
        }

        throw new TimeoutException($"after 5 minutes the log of '{experiment}' still does not hold all {entries} entries");
    }

    /// <summary>
    /// PostgreSQL on its own: one transaction per process writing what seedd writes for it (8 key
    /// records, 8 pending log entries) into copies of seedd's tables, 64 connections, as seedd's
    /// connections commit (synchronous_commit=on). Transactions per second.
    /// </summary>
    private static async Task<double> PgbenchAsync(PostgresCluster cluster, string connection, int transactions)
    {
        var database = Database(connection);
        await cluster.ExecuteAsync(database,
            "CREATE TABLE pgbench_keys (LIKE seedd_issued_seeds INCLUDING ALL); CREATE TABLE pgbench_entries (LIKE seedd_pending_entries INCLUDING ALL)");
        using var folder = new TempFolder();
        var script = folder.File("fleet.sql");
        await File.WriteAllTextAsync(script,
            """
            \set w random(0, 2147483647)
            BEGIN;
            INSERT INTO pgbench_keys (experiment_id, worker, library, stream, seed64, first_issue_ms, first_requester, issue_count)
              SELECT 'bench/pgbench', :w, 'library' || i, '', i, 1765000000000, 'ipv4:127.0.0.1:40000', 1 FROM generate_series(1, 8) i ON CONFLICT DO NOTHING;
            INSERT INTO pgbench_entries (experiment_id, time_ms, worker, library, stream, seed64, principal, peer, client_host, client_pid, client_labels)
              SELECT 'bench/pgbench', 1765000000000, :w, 'library' || i, '', i, '', 'ipv4:127.0.0.1:40000', 'worker-host', 4242, '{}' FROM generate_series(1, 8) i;
            END;

            """);
        const int Connections = 64;
        var run = await ProcessRunner.RunAsync(Path.Combine(PostgresCluster.BinDirectory, "pgbench"),
            ["-h", "127.0.0.1", "-p", cluster.Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-n", "-c", $"{Connections}", "-j", "2",
             "-t", (transactions / Connections).ToString(CultureInfo.InvariantCulture), "-f", script, database],
            environment: new Dictionary<string, string> { ["PGPASSWORD"] = PostgresCluster.Password, ["PGOPTIONS"] = "-c synchronous_commit=on" }, timeout: TimeSpan.FromMinutes(5));
        var tps = Regex.Match(run.Stdout, @"tps = ([0-9.]+) \(without initial connection time\)");
        return tps.Success ? double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"pgbench did not report a rate:\n{run.Stdout}\n{run.Stderr}");
    }

    /// <summary>A replica's integration delays, from its /metrics (only the sequencer's are non-empty).</summary>
    private static async Task<string> IntegrationProfile(string daemonOutput)
    {
        var metricsAddress = Regex.Match(daemonOutput, @"listening on http://[^,]+, (http://[^ ;]+)").Groups[1].Value;
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(new Uri(metricsAddress), "/metrics"));
        var buckets = Regex.Matches(text, @"^seedd_ledger_integration_delay_seconds_bucket\{le=""([^""]+)""\} (\S+)$", RegexOptions.Multiline)
            .Select(m => (Le: m.Groups[1].Value, Count: double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))).ToList();
        var total = buckets.Count == 0 ? 0 : buckets[^1].Count;
        if (total == 0)
        {
            return "integration: none placed by this replica";
        }

        string Quantile(double q) => buckets.First(b => b.Count >= q * total).Le;
        return $"integration (this replica placed {total:F0} entries): p50 <= {Quantile(0.5)} s, p99 <= {Quantile(0.99)} s, p99.9 <= {Quantile(0.999)} s";
    }

    private static string Database(string connection) => Regex.Match(connection, "Database=([^;]+)").Groups[1].Value;
}
