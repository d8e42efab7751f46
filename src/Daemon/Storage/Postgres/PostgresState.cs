using System.Text.Json;
using Npgsql;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;

using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Storage.Postgres;

/// <summary>
/// What a batch's rules read, as rows read inside its transaction: the experiments it touches
/// (locked FOR KEY SHARE, so nobody freezes them until this transaction ends while other replicas
/// issue into them too; FOR UPDATE when the batch freezes one) and the records of the keys it issues
/// (locked FOR UPDATE: a key's count and first issue are decided by one replica at a time).
/// Before the rows, each experiment's advisory lock is taken (<see cref="AdvisoryClass"/>; shared,
/// or exclusive for a freeze): PostgreSQL queues those in order, so a freeze waits only for the
/// transactions already issuing, and those that come after it wait for it. Row locks alone would let
/// every new share lock pass a waiting freeze, which a stream of issues from several replicas could
/// keep waiting for as long as it lasts.
/// </summary>
internal sealed class PostgresState : IBatchState
{
    private readonly Dictionary<string, ExperimentState> _experiments = new(StringComparer.Ordinal);
    private readonly Dictionary<SeedKey, KeyState> _keys = new(KeyComparer.Instance);

    public ExperimentState? Experiment(string experimentId) => _experiments.GetValueOrDefault(experimentId);

    public KeyState? Key(SeedKey key) => _keys.TryGetValue(key, out var state) ? state : null;

    private readonly Dictionary<ProcessKey, ProcessRecord> _processes = [];
    private readonly Dictionary<(ProcessKey, long), StepFingerprint> _fingerprints = [];

    public ProcessRecord? Process(ProcessKey key) => _processes.GetValueOrDefault(key);

    public StepFingerprint? Fingerprint(ProcessKey key, long step) => _fingerprints.GetValueOrDefault((key, step));

    /// <summary>Locks and reads the experiments, then locks and reads the keys, in one round trip.</summary>
    /// <param name="exclusive">The batch freezes an experiment: lock them FOR UPDATE, waiting for every replica issuing into them.</param>
    public static PostgresState Read(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<string> experiments, IReadOnlyList<SeedIssue> keys,
        IReadOnlyList<ProcessKey> processes, IReadOnlyList<(ProcessKey Process, long Step)> steps, bool exclusive)
    {
        var state = new PostgresState();
        using var batch = new NpgsqlBatch(connection, transaction);

        // In the order of the locks' keys, whatever the names that share one: no two batches wait on each other.
        var queue = new NpgsqlBatchCommand(
            $"""
            SELECT count({(exclusive ? "pg_advisory_xact_lock" : "pg_advisory_xact_lock_shared")}({AdvisoryClass}, k))
            FROM (SELECT DISTINCT hashtext(id) AS k FROM unnest(@ids::text[]) AS id ORDER BY k OFFSET 0) AS keys
            """);
        queue.Parameters.AddWithValue("ids", experiments.ToArray());
        batch.BatchCommands.Add(queue);
        var lockRows = new NpgsqlBatchCommand($"SELECT {ExperimentColumns} FROM seedd_experiments WHERE id = ANY(@ids::text[] COLLATE \"C\") ORDER BY id {(exclusive ? "FOR UPDATE" : "FOR KEY SHARE")}");
        lockRows.Parameters.AddWithValue("ids", experiments.ToArray());
        batch.BatchCommands.Add(lockRows);
        if (keys.Count > 0)
        {
            var readKeys = new NpgsqlBatchCommand(
                """
                SELECT s.experiment_id, s.worker, s.library, s.stream, s.seed64, s.first_issue_ms, s.first_requester, s.issue_count
                FROM seedd_issued_seeds s
                JOIN unnest(@e::text[], @w::bigint[], @l::text[], @s::text[]) AS k(e, w, l, s)
                  ON s.experiment_id = k.e COLLATE "C" AND s.worker = k.w AND s.library = k.l COLLATE "C" AND s.stream = k.s COLLATE "C"
                ORDER BY s.experiment_id, s.worker, s.library, s.stream
                FOR UPDATE OF s
                """);
            readKeys.Parameters.AddWithValue("e", keys.Select(k => k.Key.ExperimentId).ToArray());
            readKeys.Parameters.AddWithValue("w", keys.Select(k => (long)k.Key.Worker).ToArray());
            readKeys.Parameters.AddWithValue("l", keys.Select(k => k.Key.Library).ToArray());
            readKeys.Parameters.AddWithValue("s", keys.Select(k => k.Key.Stream).ToArray());
            batch.BatchCommands.Add(readKeys);
        }

        if (processes.Count > 0)
        {
            PostgresRuns.AddReads(batch, processes, steps);
        }

        using var reader = batch.ExecuteReader();
        reader.NextResult();
        while (reader.Read())
        {
            var (record, head, tree) = ReadExperiment(reader);
            state._experiments[record.Id] = new ExperimentState(record, head, tree);
        }

        if (keys.Count > 0 && reader.NextResult())
        {
            while (reader.Read())
            {
                state._keys[new SeedKey(reader.GetString(0), (uint)reader.GetInt64(1), reader.GetString(2), reader.GetString(3))] =
                    new KeyState(unchecked((ulong)reader.GetInt64(4)), reader.GetInt64(5), reader.GetString(6), (ulong)reader.GetInt64(7));
            }
        }

        if (processes.Count > 0 && reader.NextResult())
        {
            while (reader.Read())
            {
                var process = PostgresRuns.ReadProcess(reader);
                state._processes[process.Key] = process;
            }

            reader.NextResult();
            while (reader.Read())
            {
                var record = PostgresRuns.ReadFingerprint(reader);
                state._fingerprints[(record.Key, record.Fingerprint.Step)] = record.Fingerprint;
            }
        }

        return state;
    }

    /// <summary>The first key of seedd's advisory locks on experiments ("seed" in ASCII); the second is the hash of the experiment's id.</summary>
    public const int AdvisoryClass = 0x73656564;

    public const string ExperimentColumns = "id, root, root_generated, scheme, create_time_ms, frozen, labels::text, head_sequence, head_hash, tree";

    /// <summary>A row of <see cref="ExperimentColumns"/>.</summary>
    public static (ExperimentRecord Record, ChainHead Head, MerkleFrontier Tree) ReadExperiment(NpgsqlDataReader reader)
    {
        var id = reader.GetString(0);
        if (!Root.TryParse(reader.GetString(1), out var root))
        {
            throw new InvalidDataException($"experiment '{id}' has a damaged root in the database");
        }

        var record = new ExperimentRecord(id, root, reader.GetBoolean(2), reader.GetString(3),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)).UtcDateTime, reader.GetBoolean(5), Labels(reader.GetString(6)));
        var sequence = (ulong)reader.GetInt64(7);
        MerkleFrontier tree;
        try
        {
            tree = MerkleFrontier.Decode((long)sequence, reader.GetFieldValue<byte[]>(9));
        }
        catch (ArgumentException error)
        {
            throw new InvalidDataException($"experiment '{id}' has a damaged ledger tree in the database: {error.Message}");
        }

        return (record, sequence == 0 ? ChainHead.Genesis : new ChainHead(sequence, LedgerHash.ToHex(reader.GetFieldValue<byte[]>(8))), tree);
    }

    /// <summary>An event's entry columns as <see cref="ReadEntry"/> reads them; <see cref="ReadEvent"/> reads the two hashes after them (prev_hash, hash).</summary>
    public const string EventColumns = "sequence, time_ms, worker, library, stream, seed64, principal, peer, client_host, client_pid, client_labels::text";

    public static LedgerEntry ReadEntry(string experimentId, NpgsqlDataReader reader) =>
        new(experimentId, (ulong)reader.GetInt64(0), reader.GetInt64(1), (uint)reader.GetInt64(2), reader.GetString(3), reader.GetString(4),
            unchecked((ulong)reader.GetInt64(5)), reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetInt64(9), Labels(reader.GetString(10)));

    public static LedgerRecord ReadEvent(string experimentId, NpgsqlDataReader reader) =>
        new(ReadEntry(experimentId, reader), LedgerHash.ToHex(reader.GetFieldValue<byte[]>(11)), LedgerHash.ToHex(reader.GetFieldValue<byte[]>(12)));

    public static Dictionary<string, string> Labels(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json) is { } labels
            ? new Dictionary<string, string>(labels, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    public static string Json(IReadOnlyDictionary<string, string> labels) => JsonSerializer.Serialize(labels);
}
