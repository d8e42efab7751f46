using System.Text.Json;
using Npgsql;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.Postgres;

/// <summary>
/// Runs in PostgreSQL: seedd_run_processes (one row per process of a run) and seedd_fingerprints
/// (one row per process and step, keyed (experiment, run, step, worker): a run's rows are one index
/// range in the order runs diff reads them). Read in the batch's transaction (processes locked FOR
/// UPDATE, so two replicas never both append to one process; a process new to the batch is
/// inserted without ON CONFLICT, so a replica that created it at the same moment makes this batch
/// plan again on its row), written in the same transaction as the batch's seeds.
/// </summary>
internal static class PostgresRuns
{
    public const string Schema =
        """
        CREATE TABLE seedd_run_processes (
            experiment_id text COLLATE "C" NOT NULL,
            run_id text COLLATE "C" NOT NULL,
            worker bigint NOT NULL,
            environment jsonb NOT NULL,
            resumed_run text,
            resumed_step bigint,
            start_ms bigint NOT NULL,
            first_step bigint NOT NULL,
            last_step bigint NOT NULL,
            steps bigint NOT NULL,
            conflict_count bigint NOT NULL,
            conflicts jsonb NOT NULL,
            PRIMARY KEY (experiment_id, run_id, worker)
        );
        CREATE TABLE seedd_fingerprints (
            experiment_id text COLLATE "C" NOT NULL,
            run_id text COLLATE "C" NOT NULL,
            step bigint NOT NULL,
            worker bigint NOT NULL,
            names text[] NOT NULL,
            kinds bytea NOT NULL,
            digests bytea[] NOT NULL,
            PRIMARY KEY (experiment_id, run_id, step, worker)
        );
        """;

    private const string ProcessColumns = "experiment_id, run_id, worker, environment::text, resumed_run, resumed_step, start_ms, first_step, last_step, steps, conflict_count, conflicts::text";

    /// <summary>The processes a batch touches (locked) and the fingerprints recorded at the steps it reports, in <paramref name="batch"/>.</summary>
    public static void AddReads(NpgsqlBatch batch, IReadOnlyList<ProcessKey> processes, IReadOnlyList<(ProcessKey Process, long Step)> steps)
    {
        var lockRows = new NpgsqlBatchCommand(
            $"""
            SELECT {ProcessColumns} FROM seedd_run_processes p
            JOIN unnest(@e::text[], @r::text[], @w::bigint[]) AS k(e, r, w)
              ON p.experiment_id = k.e COLLATE "C" AND p.run_id = k.r COLLATE "C" AND p.worker = k.w
            ORDER BY p.experiment_id, p.run_id, p.worker FOR UPDATE OF p
            """);
        lockRows.Parameters.AddWithValue("e", processes.Select(p => p.ExperimentId).ToArray());
        lockRows.Parameters.AddWithValue("r", processes.Select(p => p.RunId).ToArray());
        lockRows.Parameters.AddWithValue("w", processes.Select(p => (long)p.Worker).ToArray());
        batch.BatchCommands.Add(lockRows);

        var readSteps = new NpgsqlBatchCommand(
            """
            SELECT f.experiment_id, f.run_id, f.worker, f.step, f.names, f.kinds, f.digests FROM seedd_fingerprints f
            JOIN unnest(@e::text[], @r::text[], @s::bigint[], @w::bigint[]) AS k(e, r, s, w)
              ON f.experiment_id = k.e COLLATE "C" AND f.run_id = k.r COLLATE "C" AND f.step = k.s AND f.worker = k.w
            """);
        readSteps.Parameters.AddWithValue("e", steps.Select(s => s.Process.ExperimentId).ToArray());
        readSteps.Parameters.AddWithValue("r", steps.Select(s => s.Process.RunId).ToArray());
        readSteps.Parameters.AddWithValue("s", steps.Select(s => s.Step).ToArray());
        readSteps.Parameters.AddWithValue("w", steps.Select(s => (long)s.Process.Worker).ToArray());
        batch.BatchCommands.Add(readSteps);
    }

    public static ProcessRecord ReadProcess(NpgsqlDataReader reader) => new(
        new ProcessKey(reader.GetString(0), reader.GetString(1), (uint)reader.GetInt64(2)),
        PostgresState.Labels(reader.GetString(3)),
        reader.IsDBNull(4) ? null : new ResumePoint(reader.GetString(4), reader.GetInt64(5)),
        reader.GetInt64(6),
        reader.GetInt64(7),
        reader.GetInt64(8),
        reader.GetInt64(9),
        reader.GetInt64(10),
        JsonSerializer.Deserialize<List<ConflictRow>>(reader.GetString(11))!.Select(c => new StepConflict(c.Step, c.Names)).ToList());

    public static FingerprintRecord ReadFingerprint(NpgsqlDataReader reader)
    {
        var names = reader.GetFieldValue<string[]>(4);
        var kinds = reader.GetFieldValue<byte[]>(5);
        var digests = reader.GetFieldValue<byte[][]>(6);
        var list = new Digest[names.Length];
        for (var i = 0; i < list.Length; i++)
        {
            list[i] = new Digest(names[i], (DigestKind)kinds[i], digests[i]);
        }

        return new FingerprintRecord(new ProcessKey(reader.GetString(0), reader.GetString(1), (uint)reader.GetInt64(2)), new StepFingerprint(reader.GetInt64(3), list));
    }

    /// <summary>The batch's processes (upserted) and new fingerprints, added to <paramref name="batch"/>.</summary>
    public static void AddWrites(NpgsqlBatch batch, PreparedBatch prepared, IBatchState state)
    {
        foreach (var process in prepared.Processes.Values)
        {
            var upsert = new NpgsqlBatchCommand(
                """
                INSERT INTO seedd_run_processes (experiment_id, run_id, worker, environment, resumed_run, resumed_step, start_ms, first_step, last_step, steps, conflict_count, conflicts)
                VALUES (@e, @r, @w, @env::jsonb, @rr, @rs, @t, @fs, @ls, @n, @cc, @c::jsonb)
                """ + (state.Process(process.Key) is null ? "" :
                """

                ON CONFLICT (experiment_id, run_id, worker) DO UPDATE SET environment = excluded.environment, resumed_run = excluded.resumed_run,
                  resumed_step = excluded.resumed_step, first_step = excluded.first_step, last_step = excluded.last_step, steps = excluded.steps,
                  conflict_count = excluded.conflict_count, conflicts = excluded.conflicts
                """));
            upsert.Parameters.AddWithValue("e", process.Key.ExperimentId);
            upsert.Parameters.AddWithValue("r", process.Key.RunId);
            upsert.Parameters.AddWithValue("w", (long)process.Key.Worker);
            upsert.Parameters.AddWithValue("env", PostgresState.Json(process.Environment));
            upsert.Parameters.AddWithValue("rr", (object?)process.ResumedFrom?.RunId ?? DBNull.Value);
            upsert.Parameters.AddWithValue("rs", (object?)process.ResumedFrom?.Step ?? DBNull.Value);
            upsert.Parameters.AddWithValue("t", process.StartUnixMs);
            upsert.Parameters.AddWithValue("fs", process.FirstStep);
            upsert.Parameters.AddWithValue("ls", process.LastStep);
            upsert.Parameters.AddWithValue("n", process.Steps);
            upsert.Parameters.AddWithValue("cc", process.ConflictCount);
            upsert.Parameters.AddWithValue("c", JsonSerializer.Serialize(process.Conflicts.Select(c => new ConflictRow(c.Step, c.Names.ToList()))));
            batch.BatchCommands.Add(upsert);
        }

        foreach (var ((process, step), fingerprint) in prepared.Fingerprints)
        {
            var insert = new NpgsqlBatchCommand(
                "INSERT INTO seedd_fingerprints (experiment_id, run_id, step, worker, names, kinds, digests) VALUES (@e, @r, @s, @w, @n, @k, @d)");
            insert.Parameters.AddWithValue("e", process.ExperimentId);
            insert.Parameters.AddWithValue("r", process.RunId);
            insert.Parameters.AddWithValue("s", step);
            insert.Parameters.AddWithValue("w", (long)process.Worker);
            insert.Parameters.AddWithValue("n", fingerprint.Digests.Select(d => d.Name).ToArray());
            insert.Parameters.AddWithValue("k", fingerprint.Digests.Select(d => (byte)d.Kind).ToArray());
            insert.Parameters.AddWithValue("d", fingerprint.Digests.Select(d => d.Value).ToArray());
            batch.BatchCommands.Add(insert);
        }
    }

    public static NpgsqlCommand ListProcesses(NpgsqlConnection connection, string experimentId, string? runId)
    {
        var command = new NpgsqlCommand(
            $"""
            SELECT {ProcessColumns} FROM seedd_run_processes
            WHERE experiment_id = @e COLLATE "C" AND (@r::text IS NULL OR run_id = @r COLLATE "C") ORDER BY run_id, worker
            """, connection);
        command.Parameters.AddWithValue("e", experimentId);
        command.Parameters.Add(new NpgsqlParameter("r", NpgsqlTypes.NpgsqlDbType.Text) { Value = (object?)runId ?? DBNull.Value });
        return command;
    }

    public static NpgsqlCommand ListFingerprints(NpgsqlConnection connection, string experimentId, string runId, long fromStep, FingerprintCursor? after, int limit)
    {
        var command = new NpgsqlCommand(
            """
            SELECT experiment_id, run_id, worker, step, names, kinds, digests FROM seedd_fingerprints
            WHERE experiment_id = @e COLLATE "C" AND run_id = @r COLLATE "C" AND step >= @from AND (step, worker) > (@s, @w)
            ORDER BY step, worker LIMIT @limit
            """, connection);
        command.Parameters.AddWithValue("e", experimentId);
        command.Parameters.AddWithValue("r", runId);
        command.Parameters.AddWithValue("from", fromStep);
        command.Parameters.AddWithValue("s", after?.Step ?? -1L);
        command.Parameters.AddWithValue("w", after is { } cursor ? (long)cursor.Worker : -1L);
        command.Parameters.AddWithValue("limit", limit);
        return command;
    }

    public static NpgsqlCommand FindFingerprint(NpgsqlConnection connection, ProcessKey key, long step)
    {
        var command = new NpgsqlCommand(
            """
            SELECT experiment_id, run_id, worker, step, names, kinds, digests FROM seedd_fingerprints
            WHERE experiment_id = @e COLLATE "C" AND run_id = @r COLLATE "C" AND step = @s AND worker = @w
            """, connection);
        command.Parameters.AddWithValue("e", key.ExperimentId);
        command.Parameters.AddWithValue("r", key.RunId);
        command.Parameters.AddWithValue("s", step);
        command.Parameters.AddWithValue("w", (long)key.Worker);
        return command;
    }

    private sealed record ConflictRow(long Step, List<string> Names);
}
