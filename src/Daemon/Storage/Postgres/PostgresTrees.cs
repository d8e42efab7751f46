using Npgsql;
using SeedDaemon.Derivation.Ledger;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Storage.Postgres;

/// <summary>
/// Each experiment's ledger tree in PostgreSQL: its right edge in <c>seedd_experiments.tree</c> (the
/// subtree roots, largest first, of head_sequence leaves) and the roots of its perfect subtrees of
/// 2^8, 2^16, ... events in <c>seedd_tree_nodes</c>, written in the transaction whose event completes
/// them. Schema 3 adds both and grows every experiment's tree over its events, in the migration's
/// one transaction.
/// </summary>
internal static class PostgresTrees
{
    public const int Version = 3;

    public const string Schema =
        """
        ALTER TABLE seedd_experiments ADD COLUMN tree bytea;
        CREATE TABLE seedd_tree_nodes (
            experiment_id text COLLATE "C" NOT NULL,
            level integer NOT NULL,
            idx bigint NOT NULL,
            hash bytea NOT NULL,
            PRIMARY KEY (experiment_id, level, idx)
        );
        CREATE TABLE seedd_ledger_key (
            id integer PRIMARY KEY,
            verifier_key text NOT NULL
        );
        """;

    /// <summary>
    /// Replicas sign with one key: the first replica records its verifier key, and one with another
    /// key is refused (inside the schema's transaction, so two first replicas cannot both record theirs).
    /// </summary>
    public static void CheckKey(NpgsqlConnection connection, NpgsqlTransaction transaction, string verifierKey)
    {
        using (var record = new NpgsqlCommand("INSERT INTO seedd_ledger_key (id, verifier_key) VALUES (1, @key) ON CONFLICT (id) DO NOTHING", connection, transaction))
        {
            record.Parameters.AddWithValue("key", verifierKey);
            record.ExecuteNonQuery();
        }

        using var read = new NpgsqlCommand("SELECT verifier_key FROM seedd_ledger_key WHERE id = 1", connection, transaction);
        var recorded = (string)read.ExecuteScalar()!;
        if (recorded != verifierKey)
        {
            throw new LedgerKeyMismatchException(verifierKey, recorded);
        }
    }

    public static NpgsqlBatchCommand InsertNodes(IReadOnlyList<(string ExperimentId, TreeNode Node)> nodes)
    {
        var insert = new NpgsqlBatchCommand(
            "INSERT INTO seedd_tree_nodes (experiment_id, level, idx, hash) SELECT * FROM unnest(@e::text[], @level::integer[], @idx::bigint[], @hash::bytea[])");
        insert.Parameters.AddWithValue("e", nodes.Select(n => n.ExperimentId).ToArray());
        insert.Parameters.AddWithValue("level", nodes.Select(n => n.Node.Level).ToArray());
        insert.Parameters.AddWithValue("idx", nodes.Select(n => n.Node.Index).ToArray());
        insert.Parameters.AddWithValue("hash", nodes.Select(n => n.Node.Hash).ToArray());
        return insert;
    }

    /// <summary>The hashes of nodes [<paramref name="start"/>, <paramref name="end"/>) of a level; a missing one is damage, named.</summary>
    public static async Task<IReadOnlyList<byte[]>> ReadNodesAsync(NpgsqlConnection connection, string experimentId, int level, long start, long end, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT idx, hash FROM seedd_tree_nodes WHERE experiment_id = @e COLLATE \"C\" AND level = @level AND idx >= @start AND idx < @end ORDER BY idx", connection);
        command.Parameters.AddWithValue("e", experimentId);
        command.Parameters.AddWithValue("level", level);
        command.Parameters.AddWithValue("start", start);
        command.Parameters.AddWithValue("end", end);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var hashes = new List<byte[]>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var hash = reader.GetFieldValue<byte[]>(1);
            if (reader.GetInt64(0) != start + hashes.Count || hash.Length != MerkleTree.HashSize)
            {
                break;
            }

            hashes.Add(hash);
        }

        return hashes.Count == end - start ? hashes
            : throw new InvalidDataException($"the ledger tree of '{experimentId}' is damaged: its stored subtree {start + hashes.Count} at level {level} is missing or not a hash");
    }

    /// <summary>Schema 3: every experiment's tree grown over its events in chain order, inside the migration's transaction.</summary>
    public static void GrowAll(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        var experiments = new List<(string Id, long Head)>();
        using (var list = new NpgsqlCommand("SELECT id, head_sequence FROM seedd_experiments ORDER BY id", connection, transaction))
        using (var reader = list.ExecuteReader())
        {
            while (reader.Read())
            {
                experiments.Add((reader.GetString(0), reader.GetInt64(1)));
            }
        }

        foreach (var (id, head) in experiments)
        {
            var tree = new MerkleFrontier();
            var nodes = new List<(string, TreeNode)>();
            var leaves = new LedgerLeafHasher();
            using (var events = new NpgsqlCommand(
                $"""
                SELECT {PostgresState.EventColumns}
                FROM seedd_ledger_events WHERE experiment_id = @e COLLATE "C" ORDER BY sequence
                """, connection, transaction))
            {
                events.Parameters.AddWithValue("e", id);
                using var reader = events.ExecuteReader();
                var completed = new List<TreeNode>();
                while (reader.Read())
                {
                    var sequence = reader.GetInt64(0);
                    if (sequence != tree.Size + 1)
                    {
                        throw new InvalidDataException($"the ledger of '{id}' jumps from event {tree.Size} to {sequence}");
                    }

                    tree.Append(leaves.Hash(PostgresState.ReadEntry(id, reader)), completed);
                    nodes.AddRange(completed.Select(n => (id, n)));
                    completed.Clear();
                }
            }

            if (tree.Size != head)
            {
                throw new InvalidDataException($"the ledger of '{id}' ends at event {tree.Size} but its experiment row says {head}");
            }

            using var batch = new NpgsqlBatch(connection, transaction);
            if (nodes.Count > 0)
            {
                batch.BatchCommands.Add(InsertNodes(nodes));
            }

            var update = new NpgsqlBatchCommand("UPDATE seedd_experiments SET tree = @tree WHERE id = @id COLLATE \"C\"");
            update.Parameters.AddWithValue("tree", tree.Encode());
            update.Parameters.AddWithValue("id", id);
            batch.BatchCommands.Add(update);
            batch.ExecuteNonQuery();
        }

        using var notNull = new NpgsqlCommand("ALTER TABLE seedd_experiments ALTER COLUMN tree SET NOT NULL", connection, transaction);
        notNull.ExecuteNonQuery();
    }
}

/// <summary>This replica's ledger key is not the one the database's replicas sign with.</summary>
internal sealed class LedgerKeyMismatchException(string mine, string recorded)
    : Exception($"this replica signs ledger checkpoints with key {mine}, but the replicas of this database sign with {recorded}: every replica must sign with one key. Give this replica the same key file as the others (--ledger-key FILE, or the systemd credential seedd-ledger-key)");
