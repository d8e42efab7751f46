extern alias daemon;

using System.Diagnostics;
using System.Globalization;
using daemon::SeedDaemon.Daemon.Storage.Postgres;
using SeedDaemon.Derivation;
using SeedDaemon.V1;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Replicated;

/// <summary>
/// The sequencer that places the replicas' durable entries in each experiment's log: one replica
/// holds its lease; when it dies another takes over within the lease, and when it only paused and
/// wakes up after losing the lease it places nothing (the lease's epoch is checked inside every round).
/// </summary>
public sealed class SequencerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Killing_the_sequencing_replica_under_load_loses_nothing_and_another_replica_takes_over()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("sequencer");
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 3);
        const string Experiment = "sequencer/kill";
        using (var channel = TestChannels.Create(replicas.Processes[0].Address))
        {
            await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "17" });
        }

        await Replicas.WarmUpAsync(replicas, "sequencer/warm-up");
        var (holder, epoch) = await Sequencer.HolderAsync(cluster, database, replicas);
        var load = new ReplicatedLoad(Experiment);
        using var stop = new CancellationTokenSource();
        var running = load.RunAsync(replicas.Addresses, 32, stop.Token);
        var beforeKill = await load.WaitForAsync(300, TimeSpan.FromSeconds(30));
        ProcessRunner.Signal(holder.Pid, 9);
        var clock = Stopwatch.StartNew();

        // Seeds go on being answered (entries pending) while nobody places them; then another replica takes the lease.
        var (next, nextEpoch) = await Sequencer.HolderAsync(cluster, database, replicas, after: epoch);
        var takeover = clock.Elapsed;
        var total = await load.WaitForAsync(beforeKill + 300, TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await running;
        output.WriteLine($"{beforeKill} answers before the sequencer (pid {holder.Pid}, epoch {epoch}) was killed, {total - beforeKill} after; pid {next.Pid} took the lease (epoch {nextEpoch}) {takeover.TotalSeconds:0.0} s after the kill; {load.Failures} calls failed or were cut short");
        Assert.NotEqual(holder.Pid, next.Pid);
        Assert.True(takeover < TimeSpan.FromSeconds(10), $"the lease was taken over {takeover.TotalSeconds:0.0} s after the kill");

        await ReplicatedLedger.VerifyAsync(next.Address, Experiment, load);
        Assert.Equal(0, await cluster.ScalarAsync<long>(database, "SELECT count(*) FROM seedd_pending_entries"));
    }

    [Fact]
    public async Task A_sequencer_paused_past_its_lease_places_nothing_when_it_wakes()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("fence");
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 2);
        const string Experiment = "sequencer/pause";
        using (var channel = TestChannels.Create(replicas.Processes[0].Address))
        {
            await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "19" });
        }

        var (holder, epoch) = await Sequencer.HolderAsync(cluster, database, replicas);
        var other = replicas.Processes.Single(p => p != holder);
        var load = new ReplicatedLoad(Experiment);
        using var stop = new CancellationTokenSource();

        // Only the other replica is asked: the paused one's pending calls would not end while it is stopped.
        var running = load.RunAsync([other.Address], 16, stop.Token);
        var beforePause = await load.WaitForAsync(200, TimeSpan.FromSeconds(30));
        ProcessRunner.Signal(holder.Pid, 19);
        var clock = Stopwatch.StartNew();
        try
        {
            // It still believes it holds the lease; the other replica takes it over once it expired.
            var (next, nextEpoch) = await Sequencer.HolderAsync(cluster, database, replicas, after: epoch);
            var takeover = clock.Elapsed;
            Assert.Equal(other.Pid, next.Pid);
            await load.WaitForAsync(load.Count + 200, TimeSpan.FromSeconds(30));
            output.WriteLine($"{beforePause} answers before the pause; epoch {epoch} paused, {nextEpoch} took over {takeover.TotalSeconds:0.0} s later; 200 more answers {clock.Elapsed.TotalSeconds:0.0} s after the pause");
        }
        finally
        {
            ProcessRunner.Signal(holder.Pid, 18);
        }

        // Awake again, under load: it finds its epoch gone at its next round and places nothing.
        clock.Restart();
        await holder.WaitForOutputAsync("lost the sequencer's lease", TimeSpan.FromSeconds(30));
        var noticed = clock.Elapsed;
        output.WriteLine($"woken, it said it lost the lease {noticed.TotalSeconds:0.0} s later");

        // Paused inside a round, its session was ended meanwhile (idle_in_transaction_session_timeout), which makes
        // Npgsql take the host for down for 10 s: it must try the host again at once.
        Assert.True(noticed < TimeSpan.FromSeconds(8), $"woken, it took {noticed.TotalSeconds:0.0} s to find its lease gone:\n{holder.Output}");
        await load.WaitForAsync(load.Count + 200, TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await running;

        await ReplicatedLedger.VerifyAsync(holder.Address, Experiment, load);
        var order = await cluster.ScalarAsync<string>(database,
            $"SELECT coalesce(max(sequence) FILTER (WHERE epoch = {epoch}), 0) || ' ' || min(sequence) FILTER (WHERE epoch > {epoch}) || ' ' || count(*) FILTER (WHERE epoch < {epoch}) FROM seedd_ledger_events WHERE experiment_id = '{Experiment}'");
        var parts = order.Split(' ').Select(long.Parse).ToArray();
        output.WriteLine($"last position placed by epoch {epoch}: {parts[0]}; first placed by a later epoch: {parts[1]}");
        Assert.True(parts[0] < parts[1], $"epoch {epoch} placed position {parts[0]} after epoch {epoch + 1} placed {parts[1]}: the paused sequencer wrote after losing its lease");
        Assert.Equal(0, parts[2]);
    }

    [Fact]
    public async Task A_session_stuck_sending_rows_while_it_holds_the_lease_is_ended_and_the_log_goes_on()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("stuck");
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 2);
        const string Experiment = "sequencer/stuck";
        using var channel = TestChannels.Create(replicas.Processes[0].Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "41" });

        // A session locks the lease's row, then asks for far more rows than the sockets hold and reads one:
        // PostgreSQL waits to send it the rest (ClientWrite), which no timeout of its own ends, as it would
        // for a holder paused while reading a round's rows.
        await using var stuck = await Sequencer.HoldLeaseAsync(cluster, database);
        var stuckPid = stuck.Connection.ProcessID;
        // The grace runs from the statement's start, so the clock starts before it is sent. The series is in the
        // select list, which PostgreSQL streams (in FROM it would first store all 10 million rows).
        await using var flood = new Npgsql.NpgsqlCommand("SELECT repeat('x', 1000), generate_series(1, 10000000)", stuck.Connection, stuck.Transaction);
        var clock = Stopwatch.StartNew();
        var reader = await flood.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var issued = await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = Experiment, Worker = 1, Library = "torch" });
        Assert.Equal(SeedSeqV1.Derive(41, 1, "torch", "").Seed64, issued.Seed64);

        // Once the lease expired and the session has sat there past the grace, a replica ends it and the entry is placed.
        await Poll.ForAsync(async () => await cluster.ScalarAsync<long>(database, "SELECT count(*) FROM seedd_pending_entries") == 0, TimeSpan.FromSeconds(40), "the entry to be placed");
        var placed = clock.Elapsed;
        output.WriteLine($"the entry was placed {placed.TotalSeconds:0.0} s after the row was held");
        // A backend lets go of its locks a moment before it leaves pg_stat_activity, and seedd's log reaches the test through a pipe.
        await Poll.ForAsync(async () => await cluster.ScalarAsync<long>(database, $"SELECT count(*) FROM pg_stat_activity WHERE pid = {stuckPid}") == 0, TimeSpan.FromSeconds(10), "the stuck session to be gone");
        await Poll.ForAsync(() => Task.FromResult(replicas.Processes.Any(p => p.Output.Contains($"Ended PostgreSQL session {stuckPid}", StringComparison.Ordinal))), TimeSpan.FromSeconds(10), "a replica to say it ended the session");
        Assert.True(placed >= PostgresSequencer.StuckHolderGrace, $"the session was ended {placed.TotalSeconds:0.0} s in, before the grace had passed");
        await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(async () =>
        {
            while (await reader.ReadAsync())
            {
            }
        });
    }
}

public sealed class SequencerPendingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_stopped_sequencer_places_what_is_pending_and_gives_its_lease_back_at_once()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("handover");
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 2);
        var (holder, epoch) = await Sequencer.HolderAsync(cluster, database, replicas);
        using (var channel = TestChannels.Create(holder.Address))
        {
            var seeds = new SeedService.SeedServiceClient(channel);
            await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "sequencer/stop", Root = "29" });
            var batch = new BatchGetSeedsRequest();
            batch.Requests.AddRange(Enumerable.Range(0, 5000).Select(w => new GetSeedRequest { ExperimentId = "sequencer/stop", Worker = (uint)w, Library = "torch" }));
            await seeds.BatchGetSeedsAsync(batch);
        }

        // The other replica is gone first (killed: PostgreSQL ends its session, and any lock it held, at once), so the
        // lease's row shows what the holder left, not a takeover.
        var other = replicas.Processes.Single(p => p != holder);
        ProcessRunner.Signal(other.Pid, 9);
        await holder.StopAsync();
        Assert.Equal(0, await cluster.ScalarAsync<long>(database, "SELECT count(*) FROM seedd_pending_entries"));
        Assert.Equal(5000, await cluster.ScalarAsync<long>(database, "SELECT count(*) FROM seedd_ledger_events"));

        // Given back before it exited: the next replica need not wait for it to expire.
        var lease = await cluster.ScalarAsync<string>(database, $"SELECT CASE WHEN epoch <> {epoch} THEN 'epoch ' || epoch WHEN expires_at = '-infinity' THEN 'given back' ELSE 'held until ' || expires_at END FROM seedd_sequencer WHERE id = 1");
        Assert.True(lease == "given back", $"the stopped holder's lease is {lease}: the next replica would wait for it to expire");
    }

    [Fact]
    public async Task Many_reads_waiting_for_one_experiments_entries_share_one_poll_of_the_database()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("waiters");
        // 200 reads share the pool of 10 connections once their wait ends: each may wait 30 s for one (not 5) on a loaded machine.
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database) + ";Timeout=30");
        using var channel = TestChannels.Create(seedd.Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        var audit = new AuditService.AuditServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "sequencer/waiters", Root = "53" });
        await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "sequencer/waiters", Worker = 1, Library = "torch" });
        const string Scans = "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'seedd_pending_entries'";

        // While the test holds the lease's row, 200 checkpoints are asked for at once: each waits its 2 s for the held entry.
        await using (var lease = await Sequencer.HoldLeaseAsync(cluster, database))
        {
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "sequencer/waiters", Worker = 2, Library = "torch" });
            await Task.Delay(1500);
            var before = await cluster.ScalarAsync<long>(database, Scans);
            var checkpoints = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
                (await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = "sequencer/waiters" }, deadline: DateTime.UtcNow.AddSeconds(60))).TreeSize));
            Assert.All(checkpoints, size => Assert.Equal(1, size));

            // The sessions' counters reach the statistics a second or so after they go idle (up to 10 s when
            // that is busy): each checkpoint read the table at least once, so wait until 200 reads are counted.
            long scans = 0;
            await Poll.ForAsync(async () => (scans = await cluster.ScalarAsync<long>(database, Scans) - before) >= 200, TimeSpan.FromSeconds(30), "the statistics to count each checkpoint's read");
            await Task.Delay(2000);
            scans = await cluster.ScalarAsync<long>(database, Scans) - before;
            output.WriteLine($"200 checkpoints waiting 2 s each read the pending table {scans} times");
            Assert.True(scans < 1000, $"200 waiting checkpoints read the pending table {scans} times: each polled on its own");
            await lease.ReleaseAsync();
        }

        Assert.Equal(2, (await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = "sequencer/waiters" })).TreeSize);
    }

    [Fact]
    public async Task An_experiment_whose_records_do_not_fit_together_is_held_back_and_the_others_go_on()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("poison");
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database));
        using var channel = TestChannels.Create(seedd.Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        var audit = new AuditService.AuditServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "sequencer/damaged", Root = "31" });
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "sequencer/healthy", Root = "37" });
        await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "sequencer/damaged", Worker = 1, Library = "torch" });

        // While the test holds the lease's row, one entry of each waits; then the damaged experiment's chain
        // head is made to say 5 events, where its tree holds 1.
        await using (var lease = await Sequencer.HoldLeaseAsync(cluster, database))
        {
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "sequencer/damaged", Worker = 2, Library = "torch" });
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "sequencer/healthy", Worker = 1, Library = "torch" });
            await cluster.ExecuteAsync(database, "UPDATE seedd_experiments SET head_sequence = 5 WHERE id = 'sequencer/damaged'");
            await lease.ReleaseAsync();
        }

        Assert.Equal(1, (await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = "sequencer/healthy" })).TreeSize);
        await seedd.WaitForOutputAsync("The entries of experiment 'sequencer/damaged' cannot be placed in its log", TimeSpan.FromSeconds(30));
        Assert.Equal(1, await cluster.ScalarAsync<long>(database, "SELECT count(*) FROM seedd_pending_entries WHERE experiment_id = 'sequencer/damaged'"));
        await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "sequencer/healthy", Worker = 2, Library = "torch" });
        Assert.Equal(2, (await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = "sequencer/healthy" })).TreeSize);
    }


    [Fact]
    public async Task A_proof_asked_before_the_entry_is_integrated_says_so_and_a_checkpoint_never_covers_what_is_not_in_the_tree()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("pending");
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database));
        using var channel = TestChannels.Create(seedd.Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        var audit = new AuditService.AuditServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "sequencer/pending", Root = "23" });
        await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "sequencer/pending", Worker = 1, Library = "torch" });
        Assert.Equal(1, (await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = "sequencer/pending" })).TreeSize);

        // The test holds the lease's row: the sequencer's rounds wait, while seeds are still answered (durable, pending).
        await using (var lease = await Sequencer.HoldLeaseAsync(cluster, database))
        {
            var issued = await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "sequencer/pending", Worker = 2, Library = "torch" }, deadline: DateTime.UtcNow.AddSeconds(30));
            Assert.Equal(SeedSeqV1.Derive(23, 2, "torch", "").Seed64, issued.Seed64);
            var prove = new ProveInclusionRequest { ExperimentId = "sequencer/pending", Key = new ProofKey { Worker = 2, Library = "torch" } };
            var refused = await RpcAssert.FailsWith(Grpc.Core.StatusCode.Unavailable, async () => await audit.ProveInclusionAsync(prove));
            Assert.Contains("not yet integrated", refused.Status.Detail, StringComparison.Ordinal);
            Assert.Contains("Retry in", refused.Status.Detail, StringComparison.Ordinal);
            Assert.Equal(1, (await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = "sequencer/pending" })).TreeSize);

            // A manifest would list the held key's seed row without its event: it stops, saying why, rather than be refused as altered.
            var export = await RpcAssert.FailsWith(Grpc.Core.StatusCode.Unavailable, async () =>
            {
                using var call = audit.ExportManifest(new ExportManifestRequest { ExperimentId = "sequencer/pending" });
                while (await call.ResponseStream.MoveNext(default))
                {
                }
            });
            Assert.Contains("not yet integrated", export.Status.Detail, StringComparison.Ordinal);
            await lease.ReleaseAsync();
        }

        // Let go: the entry is placed, and the same request proves it.
        var proof = await audit.ProveInclusionAsync(new ProveInclusionRequest { ExperimentId = "sequencer/pending", Key = new ProofKey { Worker = 2, Library = "torch" } });
        Assert.Equal(1, proof.LeafIndex);
        Assert.Equal(2, (await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = "sequencer/pending" })).TreeSize);

        // The holder's /metrics: how long entries waited for their place (the held one over the 4 s the proof and the checkpoint waited).
        var http = System.Text.RegularExpressions.Regex.Match(seedd.Output, @"(http://[^ ]+) \(HTTP/1\.1").Groups[1].Value;
        using var client = new HttpClient();
        var text = await client.GetStringAsync(new Uri(new Uri(http), "/metrics"));
        double Sample(string name) => double.Parse(text.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1], CultureInfo.InvariantCulture);
        Assert.Equal(2, Sample("seedd_ledger_integration_delay_seconds_count"));
        Assert.True(Sample("seedd_ledger_integration_delay_seconds_bucket{le=\"2.5\"}") <= 1, "the entry held back was counted as placed in under 2.5 s");
        Assert.True(Sample("seedd_sequencer_epoch") >= 1);
    }
}

/// <summary>Who holds the sequencer's lease, from <c>seedd_sequencer</c> (its holder names the replica's process id).</summary>
internal static class Sequencer
{
    /// <summary>Waits until a replica holds the lease with an epoch above <paramref name="after"/>; returns it and the epoch.</summary>
    public static async Task<(SeeddProcess Holder, long Epoch)> HolderAsync(PostgresCluster cluster, string database, Replicas replicas, long after = 0)
    {
        string found = "";
        await Poll.ForAsync(async () =>
        {
            found = await cluster.ScalarAsync<string>(database, "SELECT holder || ' ' || epoch FROM seedd_sequencer WHERE id = 1");
            return long.Parse(found.Split(' ')[1], CultureInfo.InvariantCulture) > after;
        }, TimeSpan.FromSeconds(30), $"a sequencer with an epoch above {after}");
        var pid = int.Parse(found.Split(' ')[0].Split('/')[1], CultureInfo.InvariantCulture);
        return (replicas.Processes.Single(p => p.Pid == pid), long.Parse(found.Split(' ')[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Holds the lease's row in a transaction of the test's own: every sequencer's round waits until it is released.</summary>
    public static Task<HeldLock> HoldLeaseAsync(PostgresCluster cluster, string database) =>
        HeldLock.TakeAsync(cluster, database, "SELECT 1 FROM seedd_sequencer WHERE id = 1 FOR UPDATE");
}
