extern alias daemon;

using Grpc.Core;
using Grpc.Health.V1;
using daemon::SeedDaemon.Daemon.Hosting;
using daemon::SeedDaemon.Daemon.Storage.Postgres;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Replicated;

/// <summary>PostgreSQL going away, coming back, or refusing seedd: what a replica does.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class PostgresFailureTests
{
    [Fact]
    public async Task PostgreSQL_stopped_is_UNAVAILABLE_and_NOT_SERVING_and_served_again_without_a_restart()
    {
        await using var cluster = await PostgresCluster.StartAsync();
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(await cluster.CreateDatabaseAsync()));
        using var channel = TestChannels.Create(seedd.Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        var health = new Health.HealthClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "pg/outage", Root = "3" });
        var before = await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "pg/outage", Worker = 0, Library = "torch" });

        await cluster.StopAsync();
        await RpcAssert.FailsWith(StatusCode.Unavailable, async () =>
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "pg/outage", Worker = 1, Library = "torch" }));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);

        // seedctl says seedd answered, and why; "cannot reach seedd" would send the user after the wrong machine.
        var ctl = await Seedctl.RunAsync("experiments", "list", "--address", seedd.Address);
        Assert.Equal(3, ctl.ExitCode);
        Assert.Contains($"seedd at {seedd.Address}", ctl.Stderr, StringComparison.Ordinal);
        Assert.Contains("answered Unavailable: ", ctl.Stderr, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL", ctl.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("cannot reach", ctl.Stderr, StringComparison.Ordinal);

        await cluster.StartAgainAsync();
        await Poll.ForAsync(async () => (await health.CheckAsync(new HealthCheckRequest())).Status == HealthCheckResponse.Types.ServingStatus.Serving, TimeSpan.FromSeconds(30), "SERVING after PostgreSQL came back");
        var after = await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "pg/outage", Worker = 1, Library = "torch" });
        Assert.Equal(1ul, after.IssueCount);
        var again = await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "pg/outage", Worker = 0, Library = "torch" });
        Assert.Equal(before.FirstIssueTime, again.FirstIssueTime);
        Assert.Equal(2ul, again.IssueCount);

        // Its sequencer takes its lease again after the outage: a verification waits only 2 s for it, so the test waits for the whole log first.
        var audit = new AuditService.AuditServiceClient(channel);
        await ReplicatedLedger.WaitForLogAsync(audit, "pg/outage", 3);
        var verified = await audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "pg/outage" });
        Assert.True(verified.Ok, verified.Reason);
        Assert.Equal(3ul, verified.EventsChecked);
    }

    [Fact]
    public async Task A_replica_started_while_PostgreSQL_is_down_does_not_exit_and_serves_once_it_is_up()
    {
        await using var cluster = await PostgresCluster.StartAsync();
        var connection = cluster.ConnectionString(await cluster.CreateDatabaseAsync());
        await cluster.StopAsync();

        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", connection);
        Assert.Contains("is not reachable", seedd.Output, StringComparison.Ordinal);
        using var channel = TestChannels.Create(seedd.Address);
        var health = new Health.HealthClient(channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);
        await RpcAssert.FailsWith(StatusCode.Unavailable, async () =>
            await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "pg/late", Root = "1" }));

        await cluster.StartAgainAsync();
        await Poll.ForAsync(async () => (await health.CheckAsync(new HealthCheckRequest())).Status == HealthCheckResponse.Types.ServingStatus.Serving, TimeSpan.FromSeconds(30), "SERVING once PostgreSQL is up");
        var created = await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "pg/late", Root = "1" });
        Assert.Equal("1", created.Root);
        Assert.Equal(PostgresSchema.Version, await cluster.ScalarAsync<int>(ConnectionDatabase(connection), "SELECT version FROM seedd_schema"));
    }

    [Fact]
    public async Task A_wrong_password_a_missing_database_or_a_role_without_rights_stop_the_start_naming_the_cause()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync();

        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database, password: "not-the-password-4711"));
        Assert.Equal(ExitCodes.DatabaseUnavailable, code);
        Assert.Contains("password authentication failed", output, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password-4711", output, StringComparison.Ordinal);

        (code, output) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString("no_such_database"));
        Assert.Equal(ExitCodes.DatabaseUnavailable, code);
        Assert.Contains("\"no_such_database\" does not exist", output, StringComparison.Ordinal);
        Assert.DoesNotContain(PostgresCluster.Password, output, StringComparison.Ordinal);

        // PostgreSQL 15 no longer lets every role create tables in the public schema.
        await cluster.ExecuteAsync(database, "CREATE ROLE seedd_reader LOGIN PASSWORD 'reader-secret'");
        (code, output) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database, "seedd_reader", "reader-secret"));
        Assert.Equal(ExitCodes.DatabaseUnavailable, code);
        Assert.Contains("permission denied", output, StringComparison.Ordinal);
        Assert.Contains("42501", output, StringComparison.Ordinal);
        Assert.DoesNotContain("reader-secret", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_schema_from_a_newer_seedd_is_refused_by_its_version()
    {
        var (cluster, database) = await DatabaseWithSchemaAsync();

        await cluster.ExecuteAsync(database, "UPDATE seedd_schema SET version = 99");
        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database));
        Assert.Equal(ExitCodes.DatabaseUnavailable, code);
        Assert.Contains("schema version 99, newer than this seedd knows (4)", output, StringComparison.Ordinal);
    }

    /// <summary>A new database whose schema (and recorded ledger key) one seedd made at its start.</summary>
    private static async Task<(PostgresCluster Cluster, string Database)> DatabaseWithSchemaAsync()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync();
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database)))
        {
            await seedd.StopAsync();
        }

        return (cluster, database);
    }

    /// <summary>A database as seedd 1.1 left it: schema version 1, without the tables versions 2 and 3 add.</summary>
    private const string AsVersion1 = "DROP TABLE seedd_run_processes, seedd_fingerprints, seedd_tree_nodes, seedd_ledger_key, seedd_pending_entries, seedd_sequencer; DROP INDEX seedd_ledger_events_key; ALTER TABLE seedd_ledger_events DROP COLUMN epoch; ALTER TABLE seedd_experiments DROP COLUMN tree; UPDATE seedd_schema SET version = 1";

    /// <summary>seedd 1.1's schema (version 1, no run tables) is migrated in place at the first start of 1.2; its records stay.</summary>
    [Fact]
    public async Task A_version_1_schema_gets_the_run_tables_and_keeps_its_records()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync();
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database)))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var seeds = new SeedService.SeedServiceClient(channel);
            await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "pg/v1", Root = "3" });
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "pg/v1", Worker = 1, Library = "torch" });
            await seedd.StopAsync();
        }

        await cluster.ExecuteAsync(database, AsVersion1);
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database)))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var seed = await new SeedService.SeedServiceClient(channel).GetSeedAsync(new GetSeedRequest { ExperimentId = "pg/v1", Worker = 1, Library = "torch" });
            Assert.Equal(2ul, seed.IssueCount);
            var runs = new RunService.RunServiceClient(channel);
            var report = new ReportFingerprintsRequest { ExperimentId = "pg/v1", RunId = "after-upgrade", Worker = 1 };
            report.Steps.Add(new StepFingerprint { Step = 0, Digests = { new Digest { Name = "loss", Kind = DigestKind.Scalar, Value = Google.Protobuf.ByteString.CopyFrom(BitConverter.GetBytes(0.5)) } } });
            Assert.Equal(1, (await runs.ReportFingerprintsAsync(report)).Recorded);

            // Its ledger grew a tree over the events it had: the tree verifies, and its checkpoint covers both.
            var audit = new AuditService.AuditServiceClient(channel);
            await ReplicatedLedger.WaitForLogAsync(audit, "pg/v1", 2);
            var verified = await audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "pg/v1" });
            Assert.True(verified.Ok, verified.Reason);
            Assert.Equal(2, (await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = "pg/v1" })).TreeSize);
        }

        Assert.Equal(4, await cluster.ScalarAsync<int>(database, "SELECT version FROM seedd_schema"));
    }

    /// <summary>
    /// The migration to version 3 grows a tree over every event in the migration's one transaction:
    /// seedd killed in the middle of it (its new tables and column made, the events being read) leaves
    /// version 1 as it was, and the next start migrates it whole. The moment is held, not raced for:
    /// the test locks the events table, so the migration waits there until seedd is killed.
    /// </summary>
    [Fact]
    public async Task A_migration_killed_halfway_leaves_the_version_1_schema_as_it_was_and_the_next_start_completes_it()
    {
        const string id = "pg/killed-migration";
        const int Events = 5_000;
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync();
        var connection = cluster.ConnectionString(database);
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", connection))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var seeds = new SeedService.SeedServiceClient(channel);
            await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "3" });
            var batch = new BatchGetSeedsRequest();
            batch.Requests.AddRange(Enumerable.Range(0, Events).Select(w => new GetSeedRequest { ExperimentId = id, Worker = (uint)w, Library = "torch" }));
            await seeds.BatchGetSeedsAsync(batch);
            await seedd.StopAsync();
        }

        await cluster.ExecuteAsync(database, AsVersion1);
        const string Schema = """
            SELECT (SELECT version FROM seedd_schema) || ' ' || (SELECT count(*) FROM seedd_ledger_events) || ' '
                || (SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public')
            """;
        var before = await cluster.ScalarAsync<string>(database, Schema);
        Assert.StartsWith($"1 {Events} ", before, StringComparison.Ordinal);

        await using (var hold = await HeldLock.TakeAsync(cluster, database, "LOCK TABLE seedd_ledger_events IN ACCESS EXCLUSIVE MODE"))
        {
            const string Halfway = """
                SELECT count(*) FROM pg_locks waiting JOIN pg_class events ON events.oid = waiting.relation AND events.relname = 'seedd_ledger_events'
                WHERE NOT waiting.granted AND EXISTS (
                    SELECT 1 FROM pg_locks held JOIN pg_class experiments ON experiments.oid = held.relation AND experiments.relname = 'seedd_experiments'
                    WHERE held.pid = waiting.pid AND held.granted AND held.mode = 'AccessExclusiveLock')
                """;
            var killed = await SeeddProcess.KillWhenAsync(async () => await cluster.ScalarAsync<long>(database, Halfway) > 0, "--listen", "127.0.0.1:0", "--postgres", connection);
            Assert.True(killed, "seedd never waited on the events with the migration's changes made");
        }

        // PostgreSQL ends the dead client's session, and its transaction with it.
        for (var waited = 0; await cluster.ScalarAsync<long>(database, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'seedd'") > 0; waited++)
        {
            Assert.True(waited < 300, "the killed seedd's session is still open after 30 s");
            await Task.Delay(100);
        }

        Assert.Equal(before, await cluster.ScalarAsync<string>(database, Schema));

        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", connection))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var audit = new AuditService.AuditServiceClient(channel);
            var verified = await audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = id });
            Assert.True(verified.Ok, verified.Reason);
            Assert.Equal(Events, (await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = id })).TreeSize);
        }

        Assert.Equal(4, await cluster.ScalarAsync<int>(database, "SELECT version FROM seedd_schema"));
    }

    [Fact]
    public async Task A_replica_with_another_ledger_key_than_the_others_is_refused_naming_both_keys()
    {
        var (cluster, database) = await DatabaseWithSchemaAsync();

        using var folder = new TempFolder();
        var other = SeedDaemon.Ledger.NoteSigner.Generate(TestLedgerKey.Name);
        var keyFile = folder.File("other.key");
        await File.WriteAllTextAsync(keyFile, other.Encoded);
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database), "--ledger-key", keyFile);
        Assert.Equal(ExitCodes.DatabaseUnavailable, code);
        Assert.Contains($"this replica signs ledger checkpoints with key {other.VerifierKey}, but the replicas of this database sign with {TestLedgerKey.VerifierKey}", output, StringComparison.Ordinal);
        Assert.Equal(TestLedgerKey.VerifierKey, await cluster.ScalarAsync<string>(database, "SELECT verifier_key FROM seedd_ledger_key"));
    }

    [Fact]
    public async Task Both_a_database_file_and_PostgreSQL_is_a_configuration_error_naming_both()
    {
        using var folder = new TempFolder();
        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"), "--postgres", "Host=127.0.0.1;Database=seedd");
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("Seedd:Database (--db) and Seedd:Postgres:ConnectionString (--postgres)", output, StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("seeds.db")));
    }

    [Theory]
    [InlineData("postgresql://seedd:p%40ss@db1:5433,db2:5434/seeds?sslmode=disable&target_session_attrs=read-write", "PostgreSQL host=db1:5433,db2:5434 database=seeds user=seedd")]
    [InlineData("Host=db1;Port=6000;Database=seeds;Username=seedd;Password=secret", "PostgreSQL host=db1:6000 database=seeds user=seedd")]
    public void Connection_strings_are_read_in_both_forms_and_described_without_the_password(string text, string described)
    {
        Assert.Null(PostgresConnection.Check(text));
        var builder = PostgresConnection.Parse(text);
        Assert.Equal(described, PostgresConnection.Describe(builder));
        Assert.DoesNotContain("secret", described, StringComparison.Ordinal);
        Assert.True(builder.Password is "p@ss" or "secret");
    }

    [Theory]
    [InlineData("Host=db1;Database=seeds", 10, 5, true, "-c synchronous_commit=on -c idle_in_transaction_session_timeout=10000")]
    [InlineData("Host=db1;MaxPoolSize=50;Timeout=15;No Reset On Close=false", 50, 15, false, "-c synchronous_commit=on -c idle_in_transaction_session_timeout=10000")]
    [InlineData("Host=db1;Maximum Pool Size=10;Options=-c synchronous_commit=remote_apply", 10, 5, true, "-c synchronous_commit=remote_apply -c idle_in_transaction_session_timeout=10000")]
    [InlineData("Host=db1;Options=-c idle_in_transaction_session_timeout=60000", 10, 5, true, "-c idle_in_transaction_session_timeout=60000 -c synchronous_commit=on")]
    [InlineData("postgresql://seedd@db1/seeds?connect_timeout=9", 10, 9, true, "-c synchronous_commit=on -c idle_in_transaction_session_timeout=10000")]
    public void Seedd_fills_in_its_defaults_and_a_value_the_user_gave_wins(string text, int pool, int timeout, bool noReset, string options)
    {
        var builder = PostgresConnection.WithSeeddDefaults(PostgresConnection.Parse(text));
        Assert.Equal((pool, timeout, noReset, options, "seedd"), (builder.MaxPoolSize, builder.Timeout, builder.NoResetOnClose, builder.Options, builder.ApplicationName));
    }

    private static string ConnectionDatabase(string connection) => new Npgsql.NpgsqlConnectionStringBuilder(connection).Database!;
}
