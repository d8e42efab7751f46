using Npgsql;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;

namespace SeedDaemon.Daemon.Storage.Postgres;

/// <summary>
/// Writes inside a transaction, in one round trip: one statement per table and kind of change, each
/// taking its rows as arrays through <c>unnest</c>. A replica's batch (<see cref="Execute"/>) writes
/// experiments, keys, runs and its pending entries; the sequencer (<see cref="AddAppends"/>) writes
/// the events it placed, the subtrees they complete and each experiment's new head and tree.
/// </summary>
internal static class PostgresWrites
{
    public static void Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, PreparedBatch prepared, IBatchState state)
    {
        using var batch = new NpgsqlBatch(connection, transaction);
        var created = prepared.Experiments.Values.Where(c => c.IsNew).ToList();
        if (created.Count > 0)
        {
            var insert = new NpgsqlBatchCommand(
                """
                INSERT INTO seedd_experiments (id, root, root_generated, scheme, create_time_ms, frozen, labels, head_sequence, head_hash, tree)
                SELECT id, root, generated, scheme, created, frozen, labels::jsonb, sequence, hash, tree
                FROM unnest(@id::text[], @root::text[], @generated::boolean[], @scheme::text[], @created::bigint[], @frozen::boolean[], @labels::text[], @sequence::bigint[], @hash::bytea[], @tree::bytea[])
                  AS v(id, root, generated, scheme, created, frozen, labels, sequence, hash, tree)
                ON CONFLICT (id) DO NOTHING
                """);
            insert.Parameters.AddWithValue("id", created.Select(c => c.Record.Id).ToArray());
            insert.Parameters.AddWithValue("root", created.Select(c => Root.Format(c.Record.Root)).ToArray());
            insert.Parameters.AddWithValue("generated", created.Select(c => c.Record.RootGenerated).ToArray());
            insert.Parameters.AddWithValue("scheme", created.Select(c => c.Record.Scheme).ToArray());
            insert.Parameters.AddWithValue("created", created.Select(c => new DateTimeOffset(c.Record.CreateTime).ToUnixTimeMilliseconds()).ToArray());
            insert.Parameters.AddWithValue("frozen", created.Select(c => c.Record.Frozen).ToArray());
            insert.Parameters.AddWithValue("labels", created.Select(c => PostgresState.Json(c.Record.Labels)).ToArray());
            AddHeads(insert, created);
            batch.BatchCommands.Add(insert);
        }

        // Only a freeze changes an existing experiment here: its head and tree are the sequencer's.
        var frozen = prepared.Experiments.Values.Where(c => !c.IsNew).ToList();
        if (frozen.Count > 0)
        {
            var update = new NpgsqlBatchCommand("UPDATE seedd_experiments e SET frozen = true WHERE e.id = ANY(@id::text[] COLLATE \"C\")");
            update.Parameters.AddWithValue("id", frozen.Select(c => c.Record.Id).ToArray());
            batch.BatchCommands.Add(update);
        }

        // In key order, as every replica inserts them: two replicas inserting the same new keys wait for each other, never deadlock.
        var newKeys = prepared.Keys.Values.Where(k => k.IsNew)
            .OrderBy(k => k.Key.ExperimentId, StringComparer.Ordinal).ThenBy(k => k.Key.Worker)
            .ThenBy(k => k.Key.Library, StringComparer.Ordinal).ThenBy(k => k.Key.Stream, StringComparer.Ordinal).ToList();
        if (newKeys.Count > 0)
        {
            var insert = new NpgsqlBatchCommand(
                """
                INSERT INTO seedd_issued_seeds (experiment_id, worker, library, stream, seed64, first_issue_ms, first_requester, issue_count)
                SELECT * FROM unnest(@e::text[], @w::bigint[], @l::text[], @s::text[], @seed::bigint[], @first::bigint[], @requester::text[], @count::bigint[])
                """);
            AddKeys(insert, newKeys);
            insert.Parameters.AddWithValue("seed", newKeys.Select(k => unchecked((long)k.State.Seed64)).ToArray());
            insert.Parameters.AddWithValue("first", newKeys.Select(k => k.State.FirstIssueUnixMs).ToArray());
            insert.Parameters.AddWithValue("requester", newKeys.Select(k => k.State.FirstRequester).ToArray());
            batch.BatchCommands.Add(insert);
        }

        var again = prepared.Keys.Values.Where(k => !k.IsNew).ToList();
        if (again.Count > 0)
        {
            var update = new NpgsqlBatchCommand(
                """
                UPDATE seedd_issued_seeds s SET issue_count = v.count
                FROM unnest(@e::text[], @w::bigint[], @l::text[], @s::text[], @count::bigint[]) AS v(e, w, l, s, count)
                WHERE s.experiment_id = v.e COLLATE "C" AND s.worker = v.w AND s.library = v.l COLLATE "C" AND s.stream = v.s COLLATE "C"
                """);
            AddKeys(update, again);
            batch.BatchCommands.Add(update);
        }

        var entries = prepared.Pending.SelectMany(p => p.Entries.Select(e => (p.ExperimentId, Entry: e, Run: p.Runs[e.Run]))).ToList();
        if (entries.Count > 0)
        {
            var insert = new NpgsqlBatchCommand(
                $"""
                INSERT INTO seedd_pending_entries (experiment_id, {PendingColumns})
                SELECT e, time, w, l, s, seed, principal, peer, host, pid, labels::jsonb
                FROM unnest(@e::text[], @time::bigint[], @w::bigint[], @l::text[], @s::text[], @seed::bigint[], @principal::text[], @peer::text[],
                            @host::text[], @pid::bigint[], @labels::text[])
                  AS v(e, time, w, l, s, seed, principal, peer, host, pid, labels)
                """);
            insert.Parameters.AddWithValue("e", entries.Select(x => x.ExperimentId).ToArray());
            insert.Parameters.AddWithValue("time", entries.Select(x => x.Run.TimeUnixMs).ToArray());
            insert.Parameters.AddWithValue("w", entries.Select(x => (long)x.Entry.Worker).ToArray());
            insert.Parameters.AddWithValue("l", entries.Select(x => x.Entry.Library).ToArray());
            insert.Parameters.AddWithValue("s", entries.Select(x => x.Entry.Stream).ToArray());
            insert.Parameters.AddWithValue("seed", entries.Select(x => unchecked((long)x.Entry.Seed64)).ToArray());
            AddOrigins(insert, entries.Select(x => x.Run).ToList());
            batch.BatchCommands.Add(insert);
        }

        PostgresRuns.AddWrites(batch, prepared, state);
        batch.ExecuteNonQuery();
        if (created.Count > 0 && batch.BatchCommands[0].RecordsAffected != created.Count)
        {
            throw new ConcurrentCreationException();
        }
    }

    /// <summary>The sequencer's writes: the placed events, the subtrees they complete, and each experiment's new head and tree.</summary>
    public static void AddAppends(NpgsqlBatch batch, IReadOnlyList<ChainAppend> appends, long epoch)
    {
        var events = appends.SelectMany(a => a.Events.Select((e, i) => (Append: a, Event: e, Previous: a.PreviousHash(i)))).ToList();
        if (events.Count > 0)
        {
            var insert = new NpgsqlBatchCommand(
                """
                INSERT INTO seedd_ledger_events (experiment_id, sequence, time_ms, worker, library, stream, seed64, principal, peer, client_host, client_pid, client_labels, prev_hash, hash, epoch)
                SELECT e, sequence, time, w, l, s, seed, principal, peer, host, pid, labels::jsonb, prev, hash, @epoch
                FROM unnest(@e::text[], @sequence::bigint[], @time::bigint[], @w::bigint[], @l::text[], @s::text[], @seed::bigint[], @principal::text[], @peer::text[],
                            @host::text[], @pid::bigint[], @labels::text[], @prev::bytea[], @hash::bytea[])
                  AS v(e, sequence, time, w, l, s, seed, principal, peer, host, pid, labels, prev, hash)
                """);
            var runs = events.Select(x => x.Append.Runs[x.Event.Run]).ToList();
            insert.Parameters.AddWithValue("e", events.Select(x => x.Append.ExperimentId).ToArray());
            insert.Parameters.AddWithValue("sequence", events.Select(x => (long)x.Event.Sequence).ToArray());
            insert.Parameters.AddWithValue("time", runs.Select(r => r.TimeUnixMs).ToArray());
            insert.Parameters.AddWithValue("w", events.Select(x => (long)x.Event.Worker).ToArray());
            insert.Parameters.AddWithValue("l", events.Select(x => x.Event.Library).ToArray());
            insert.Parameters.AddWithValue("s", events.Select(x => x.Event.Stream).ToArray());
            insert.Parameters.AddWithValue("seed", events.Select(x => unchecked((long)x.Event.Seed64)).ToArray());
            AddOrigins(insert, runs);
            insert.Parameters.AddWithValue("prev", events.Select(x => x.Previous).ToArray());
            insert.Parameters.AddWithValue("hash", events.Select(x => x.Event.Hash).ToArray());
            insert.Parameters.AddWithValue("epoch", epoch);
            batch.BatchCommands.Add(insert);
        }

        var nodes = appends.SelectMany(a => a.Nodes.Select(n => (a.ExperimentId, Node: n))).ToList();
        if (nodes.Count > 0)
        {
            batch.BatchCommands.Add(PostgresTrees.InsertNodes(nodes));
        }

        var update = new NpgsqlBatchCommand(
            """
            UPDATE seedd_experiments e SET head_sequence = v.sequence, head_hash = v.hash, tree = v.tree
            FROM unnest(@id::text[], @sequence::bigint[], @hash::bytea[], @tree::bytea[]) AS v(id, sequence, hash, tree)
            WHERE e.id = v.id COLLATE "C"
            """);
        update.Parameters.AddWithValue("id", appends.Select(a => a.ExperimentId).ToArray());
        update.Parameters.AddWithValue("sequence", appends.Select(a => (long)a.After.Sequence).ToArray());
        update.Parameters.AddWithValue("hash", appends.Select(a => LedgerHash.FromHex(a.After.Hash)).ToArray());
        update.Parameters.AddWithValue("tree", appends.Select(a => a.Tree.Encode()).ToArray());
        batch.BatchCommands.Add(update);
    }

    /// <summary>An entry's columns after its experiment, as <see cref="PostgresState.ReadPending"/> reads them.</summary>
    public const string PendingColumns = "time_ms, worker, library, stream, seed64, principal, peer, client_host, client_pid, client_labels";

    private static void AddOrigins(NpgsqlBatchCommand command, List<EventRun> runs)
    {
        command.Parameters.AddWithValue("principal", runs.Select(r => r.Origin.Principal).ToArray());
        command.Parameters.AddWithValue("peer", runs.Select(r => r.Origin.Peer).ToArray());
        command.Parameters.AddWithValue("host", runs.Select(r => r.Origin.ClientHost).ToArray());
        command.Parameters.AddWithValue("pid", runs.Select(r => r.Origin.ClientPid).ToArray());
        command.Parameters.AddWithValue("labels", runs.Select(r => PostgresState.Json(r.Origin.ClientLabels)).ToArray());
    }

    private static void AddHeads(NpgsqlBatchCommand command, List<ExperimentState> experiments)
    {
        command.Parameters.AddWithValue("sequence", experiments.Select(c => (long)c.Head.Sequence).ToArray());
        command.Parameters.AddWithValue("hash", experiments.Select(c => LedgerHash.FromHex(c.Head.Hash)).ToArray());
        command.Parameters.AddWithValue("tree", experiments.Select(c => c.Tree.Encode()).ToArray());
    }

    private static void AddKeys(NpgsqlBatchCommand command, List<KeyChange> keys)
    {
        command.Parameters.AddWithValue("e", keys.Select(k => k.Key.ExperimentId).ToArray());
        command.Parameters.AddWithValue("w", keys.Select(k => (long)k.Key.Worker).ToArray());
        command.Parameters.AddWithValue("l", keys.Select(k => k.Key.Library).ToArray());
        command.Parameters.AddWithValue("s", keys.Select(k => k.Key.Stream).ToArray());
        command.Parameters.AddWithValue("count", keys.Select(k => (long)k.State.IssueCount).ToArray());
    }
}

/// <summary>Another replica created an experiment of this batch first: the batch is planned again on what it committed.</summary>
internal sealed class ConcurrentCreationException() : Exception("another replica created the same experiment first");
