using System.Diagnostics;
using System.Globalization;
using Npgsql;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Storage.Postgres;

/// <summary>
/// Places the entries the replicas made durable in their experiments' logs. Every replica runs one;
/// the one holding the lease in <c>seedd_sequencer</c> (holder, epoch, expiry, on PostgreSQL's clock)
/// works, the others try to take the lease over once it expired. Each round is one transaction that
/// first renews the lease on the condition that holder and epoch are still this sequencer's: that
/// row stays locked until the commit, so a holder that paused and lost its lease meanwhile changes
/// nothing (its renewal finds another epoch), and one that is paused inside a round keeps others
/// waiting until its transaction ends: PostgreSQL ends it when it sits idle in the transaction
/// (idle_in_transaction_session_timeout), and a replica waiting to take the lease ends it when its
/// session is stuck sending the round's rows to a client that stopped reading
/// (<see cref="StuckHolderGrace"/>). The round
/// takes pending entries in the order they were written, gives them sequences after each
/// experiment's head (<see cref="ChainAppender"/>), and writes the events, the completed subtrees and
/// the new heads and trees; the entries leave the pending table in the same transaction. Each event
/// keeps the epoch that placed it (<c>seedd_ledger_events.epoch</c>; 0 before schema 4, and NOT NULL
/// without a default, so a replica of an older seedd still running cannot append an event of its own).
/// An experiment whose records do not fit together is held back (logged), not the whole round.
/// </summary>
internal sealed class PostgresSequencer : IDisposable
{
    /// <summary>How long a lease lasts without renewal: a dead holder's entries wait this long at most, plus one try.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    /// <summary>
    /// How long a holder's statement may have run, once its lease expired and its session waits to
    /// send its client the round's rows, before a replica that wants the lease ends that session (the
    /// same bound PostgreSQL puts on a session idle inside its transaction, <see cref="PostgresConnection.IdleInTransactionTimeout"/>).
    /// </summary>
    public static readonly TimeSpan StuckHolderGrace = PostgresConnection.IdleInTransactionTimeout;

    /// <summary>How long a try to take the lease waits for its row before it looks for a stuck holder.</summary>
    private static readonly TimeSpan LeaseLockWait = TimeSpan.FromSeconds(1);

    /// <summary>The most entries one round places.</summary>
    public const int MaxRound = 20_000;

    /// <summary>Under load, the time from one round to the next (unless a round was full): each round is a commit of its own.</summary>
    public static readonly TimeSpan RoundInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>How long an experiment whose records do not fit together is skipped before the sequencer tries it again.</summary>
    public static readonly TimeSpan HoldBackTime = TimeSpan.FromMinutes(1);

    /// <summary>The longest an idle sequencer waits before looking for pending entries again (they are written by other replicas too).</summary>
    public static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(20);

    /// <summary>How long a read of the log (a checkpoint, a proof, a verification) waits for the entries pending when it was asked.</summary>
    public static readonly TimeSpan IntegrationWait = TimeSpan.FromSeconds(2);

    public const string Schema =
        """
        CREATE TABLE seedd_pending_entries (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            experiment_id text COLLATE "C" NOT NULL,
            time_ms bigint NOT NULL,
            worker bigint NOT NULL,
            library text NOT NULL,
            stream text NOT NULL,
            seed64 bigint NOT NULL,
            principal text NOT NULL,
            peer text NOT NULL,
            client_host text NOT NULL,
            client_pid bigint NOT NULL,
            client_labels jsonb NOT NULL
        );
        CREATE INDEX seedd_pending_entries_experiment ON seedd_pending_entries (experiment_id, id);
        CREATE TABLE seedd_sequencer (
            id integer PRIMARY KEY CHECK (id = 1),
            holder text NOT NULL,
            epoch bigint NOT NULL,
            expires_at timestamptz NOT NULL
        );
        INSERT INTO seedd_sequencer (id, holder, epoch, expires_at) VALUES (1, '', 0, '-infinity');
        CREATE INDEX seedd_ledger_events_key ON seedd_ledger_events (experiment_id, worker, library, stream, sequence);
        ALTER TABLE seedd_ledger_events ADD COLUMN epoch bigint NOT NULL DEFAULT 0;
        ALTER TABLE seedd_ledger_events ALTER COLUMN epoch DROP DEFAULT;
        ALTER TABLE seedd_pending_entries SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000, vacuum_truncate = false);
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly IRecordingObserver? _observer;
    private readonly Func<bool> _ready;
    private readonly Action _forgetHostStates;
    private readonly string _identity = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}");
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _epoch;
    private long _renewedAt;
    private volatile bool _draining;
    private readonly Dictionary<string, long> _held = new(StringComparer.Ordinal);
    private string? _lastFailure;
    private long _placedSinceVacuum;
    private long _vacuumedAt;
    private long _lastFailureLogged;

    /// <param name="ready">Whether the database is reachable with seedd's schema (the backend's probe knows): until then the sequencer waits.</param>
    /// <param name="forgetHostStates">After a failed round: Npgsql may have taken the host for down (a session PostgreSQL ended).</param>
    public PostgresSequencer(NpgsqlDataSource dataSource, Func<bool> ready, Action forgetHostStates, ILogger logger, IRecordingObserver? observer)
    {
        _dataSource = dataSource;
        _ready = ready;
        _forgetHostStates = forgetHostStates;
        _logger = logger;
        _observer = observer;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The lease's epoch while this replica holds it; 0 when it does not.</summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    /// <summary>Experiments held back now: their records do not fit together (damage), their entries wait.</summary>
    public int HeldBackCount => _held.Count;

    /// <summary>This replica wrote pending entries: a holder looks at once instead of at its next poll.</summary>
    public void Nudge()
    {
        if (Epoch != 0 && _wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>
    /// A holder first places what is pending (a few seconds at most), so that a stopped fleet leaves
    /// nothing waiting, and gives the lease back, so that another replica takes over at once; then the loop stops.
    /// </summary>
    public void Dispose()
    {
        _draining = true;
        _wake.Release();
        try
        {
            if (!_loop.Wait(TimeSpan.FromSeconds(5)))
            {
                _stop.Cancel();
                _loop.Wait(TimeSpan.FromSeconds(5));
            }
        }
        catch (AggregateException)
        {
            // Cancelled.
        }

        _stop.Cancel();
        if (Epoch != 0)
        {
            try
            {
                using var connection = _dataSource.OpenConnection();
                using var release = new NpgsqlCommand("UPDATE seedd_sequencer SET expires_at = '-infinity' WHERE id = 1 AND holder = @me AND epoch = @epoch", connection);
                release.Parameters.AddWithValue("me", _identity);
                release.Parameters.AddWithValue("epoch", Epoch);
                release.ExecuteNonQuery();
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                // Unreachable: the lease expires by itself.
            }
        }

        // _wake and _stop are not disposed: a read still in flight may nudge, and the loop may outlive the waits above.
    }

    private async Task LoopAsync()
    {
        var idle = TimeSpan.FromMilliseconds(1);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (_draining && (Epoch == 0 || !_ready()))
                {
                    return;
                }

                if (!_ready())
                {
                    await _wake.WaitAsync(TimeSpan.FromSeconds(1), _stop.Token);
                    continue;
                }

                if (Epoch == 0 && !await TryAcquireAsync())
                {
                    await _wake.WaitAsync(Lease / 3, _stop.Token);
                    continue;
                }

                var placed = await RoundAsync();
                if (placed > 0)
                {
                    // Under load a round follows the last after RoundInterval, not at once: fewer, larger commits.
                    idle = TimeSpan.FromMilliseconds(1);
                    await VacuumAsync(idle: false);
                    if (placed < MaxRound && !_draining)
                    {
                        await Task.Delay(RoundInterval, _stop.Token);
                    }

                    continue;
                }

                if (_draining)
                {
                    return;
                }

                await VacuumAsync(idle: true);

                // Nothing pending: wait (longer each time, up to IdlePoll), or until this replica writes entries.
                await _wake.WaitAsync(idle, _stop.Token);
                idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, IdlePoll.Ticks));
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (LeaseLostException)
            {
                Interlocked.Exchange(ref _epoch, 0);
                PostgresLog.LeaseLost(_logger, _identity);
            }
            catch (Exception) when (_draining)
            {
                return;
            }
            catch (Exception error)
            {
                // The database is away or failing over, or it ended this round's session: the round rolled back,
                // nothing was placed. Try again shortly (said once, then every 30 s while it goes on), on a host
                // Npgsql may have taken for down.
                _forgetHostStates();
                if (error.Message != _lastFailure || Stopwatch.GetElapsedTime(_lastFailureLogged) > TimeSpan.FromSeconds(30))
                {
                    PostgresLog.SequencerFailed(_logger, Epoch == 0 ? "taking the lease" : "a round", error.Message);
                    _lastFailure = error.Message;
                    _lastFailureLogged = Stopwatch.GetTimestamp();
                }
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Takes the lease when it expired (on PostgreSQL's clock): a new epoch. A holder inside a round
    /// holds the row; this waits <see cref="LeaseLockWait"/> for it, then ends the holder's session if
    /// it is stuck (<see cref="EndStuckHolderAsync"/>) and tries again at the next turn.
    /// </summary>
    private async Task<bool> TryAcquireAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync(_stop.Token);
        long epoch;
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(_stop.Token);
            await using var batch = new NpgsqlBatch(connection, transaction);
            batch.BatchCommands.Add(new NpgsqlBatchCommand(string.Create(CultureInfo.InvariantCulture, $"SET LOCAL lock_timeout = {LeaseLockWait.TotalMilliseconds:0}")));
            var take = new NpgsqlBatchCommand("UPDATE seedd_sequencer SET holder = @me, epoch = epoch + 1, expires_at = now() + @lease WHERE id = 1 AND expires_at < now() RETURNING epoch");
            take.Parameters.AddWithValue("me", _identity);
            take.Parameters.AddWithValue("lease", Lease);
            batch.BatchCommands.Add(take);
            if (await batch.ExecuteScalarAsync(_stop.Token) is not long taken)
            {
                return false;
            }

            await transaction.CommitAsync(_stop.Token);
            epoch = taken;
        }
        catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            await EndStuckHolderAsync(connection);
            return false;
        }

        Interlocked.Exchange(ref _epoch, epoch);
        _renewedAt = Stopwatch.GetTimestamp();
        PostgresLog.LeaseTaken(_logger, _identity, epoch);
        return true;
    }

    /// <summary>
    /// Ends the session that holds the lease's row when the lease expired, it has been running its
    /// statement for longer than <see cref="StuckHolderGrace"/>, and it is waiting to send its client
    /// rows (ClientWrite): a holder paused or hung while reading a round's rows, which no timeout of
    /// PostgreSQL's ends. Its round rolls back; nothing it did is kept. The session is found through
    /// the row's locker (<c>xmax</c>, the holding transaction) in <c>pg_stat_activity</c>; a replica
    /// sees and may end it when it connects as the same role (or its role has pg_read_all_stats and
    /// pg_signal_backend). A lease given back reads '-infinity': its seconds past are not computed.
    /// </summary>
    private async Task EndStuckHolderAsync(NpgsqlConnection connection)
    {
        await using var end = new NpgsqlCommand(
            """
            SELECT a.pid, coalesce(a.application_name, ''), CASE WHEN isfinite(s.expires_at) THEN extract(epoch FROM now() - s.expires_at)::float8 ELSE 0 END, pg_terminate_backend(a.pid)
            FROM seedd_sequencer s JOIN pg_stat_activity a ON a.backend_xid = s.xmax
            WHERE s.id = 1 AND s.expires_at < now() AND a.state = 'active' AND a.wait_event = 'ClientWrite' AND a.state_change < now() - @grace
            """, connection);
        end.Parameters.AddWithValue("grace", StuckHolderGrace);
        await using var reader = await end.ExecuteReaderAsync(_stop.Token);
        while (await reader.ReadAsync(_stop.Token))
        {
            if (reader.GetBoolean(3))
            {
                PostgresLog.StuckHolderEnded(_logger, reader.GetInt32(0), reader.GetString(1), reader.GetDouble(2));
            }
        }
    }

    /// <summary>One round: renews the lease (fenced), places what is pending. Returns the number of entries placed.</summary>
    private async Task<int> RoundAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync(_stop.Token);
        if (Stopwatch.GetElapsedTime(_renewedAt) < Lease / 3)
        {
            // Within the lease: a look costs a read, not a commit (and entries held back are not worth one).
            await using var look = PendingQuery("SELECT 1", "LIMIT 1", connection, null);
            if (await look.ExecuteScalarAsync(_stop.Token) is null)
            {
                return 0;
            }
        }

        await using var transaction = await connection.BeginTransactionAsync(_stop.Token);
        await using (var renew = new NpgsqlCommand(
            "UPDATE seedd_sequencer SET expires_at = now() + @lease WHERE id = 1 AND holder = @me AND epoch = @epoch", connection, transaction))
        {
            renew.Parameters.AddWithValue("lease", Lease);
            renew.Parameters.AddWithValue("me", _identity);
            renew.Parameters.AddWithValue("epoch", Epoch);
            if (await renew.ExecuteNonQueryAsync(_stop.Token) != 1)
            {
                throw new LeaseLostException();
            }
        }

        var pending = await TakePendingAsync(connection, transaction);
        var placed = pending.Count == 0 ? [] : await PlaceAsync(connection, transaction, pending);
        var appends = placed.Select(p => p.Append).ToList();
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            if (appends.Count > 0)
            {
                PostgresWrites.AddAppends(batch, appends, Epoch);
                var done = new NpgsqlBatchCommand("DELETE FROM seedd_pending_entries WHERE id = ANY(@ids::bigint[])");
                done.Parameters.AddWithValue("ids", placed.SelectMany(p => p.Ids).ToArray());
                batch.BatchCommands.Add(done);
            }

            // The lease runs from the end of the round (the row is this round's since its start): a long round does not cost the lease.
            var extend = new NpgsqlBatchCommand("UPDATE seedd_sequencer SET expires_at = clock_timestamp() + @lease WHERE id = 1");
            extend.Parameters.AddWithValue("lease", Lease);
            batch.BatchCommands.Add(extend);
            await batch.ExecuteNonQueryAsync(_stop.Token);
        }

        var renewedAt = Stopwatch.GetTimestamp();
        await transaction.CommitAsync(_stop.Token);
        _renewedAt = renewedAt;
        if (appends.Count > 0)
        {
            Integrated(appends);
        }

        var count = appends.Sum(a => a.Events.Count);
        _placedSinceVacuum += count;
        return count;
    }

    /// <summary>
    /// The pending table is a queue: every entry is written once and deleted once. Its dead rows are
    /// vacuumed right after a burst (and every 10,000 entries during one), so that the looks for what
    /// is pending (here, and by every read that waits for its entries) stay index lookups of a few rows.
    /// The table is never truncated by a vacuum (<c>vacuum_truncate = false</c>): that would need a lock
    /// the replicas' inserts hold all the time.
    /// </summary>
    private async Task VacuumAsync(bool idle)
    {
        if (_placedSinceVacuum == 0 || (!idle && _placedSinceVacuum < 10_000) || Stopwatch.GetElapsedTime(_vacuumedAt) < TimeSpan.FromSeconds(1))
        {
            return;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(_stop.Token);
        await using var vacuum = new NpgsqlCommand("VACUUM seedd_pending_entries", connection);
        await vacuum.ExecuteNonQueryAsync(_stop.Token);
        _placedSinceVacuum = 0;
        _vacuumedAt = Stopwatch.GetTimestamp();
    }

    /// <summary>Reads up to <see cref="MaxRound"/> pending entries, oldest first (of experiments not held back), grouped by experiment in their order, with their ids.</summary>
    private async Task<List<(PendingAppend Append, List<long> Ids)>> TakePendingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        await using var take = PendingQuery(
            $"SELECT id, experiment_id, {PostgresWrites.PendingColumns.Replace("client_labels", "client_labels::text", StringComparison.Ordinal)}",
            $"ORDER BY id LIMIT {MaxRound}", connection, transaction);

        await using var reader = await take.ExecuteReaderAsync(_stop.Token);
        var appends = new Dictionary<string, (PendingAppend Append, List<long> Ids, PendingRow? Last)>(StringComparer.Ordinal);
        while (await reader.ReadAsync(_stop.Token))
        {
            var experiment = reader.GetString(1);
            var row = new PendingRow(reader.GetInt64(2), (uint)reader.GetInt64(3), reader.GetString(4), reader.GetString(5),
                unchecked((ulong)reader.GetInt64(6)), reader.GetString(7), reader.GetString(8), reader.GetString(9), reader.GetInt64(10), reader.GetString(11));
            if (!appends.TryGetValue(experiment, out var current))
            {
                current = (new PendingAppend(experiment), [], null);
            }

            // Entries of one request share their run (time and origin), as the replica wrote them.
            if (current.Last is not { } last || !row.SameRun(last))
            {
                current.Append.Runs.Add(new EventRun(row.TimeMs, new RequestOrigin(row.Principal, row.Peer, row.ClientHost, row.ClientPid, PostgresState.Labels(row.Labels))));
            }

            current.Append.Entries.Add(new PendingEntry(current.Append.Runs.Count - 1, row.Worker, row.Library, row.Stream, row.Seed64));
            current.Ids.Add(reader.GetInt64(0));
            appends[experiment] = (current.Append, current.Ids, row);
        }

        return appends.Values.Select(a => (a.Append, a.Ids)).ToList();
    }

    /// <summary><paramref name="select"/> over the pending entries, but those of experiments held back (they stay where they are), then <paramref name="rest"/>.</summary>
    private NpgsqlCommand PendingQuery(string select, string rest, NpgsqlConnection connection, NpgsqlTransaction? transaction)
    {
        var held = HeldBack();
        var command = new NpgsqlCommand(
            $"{select} FROM seedd_pending_entries {(held.Length == 0 ? "" : "WHERE NOT (experiment_id = ANY(@held::text[]))")} {rest}", connection, transaction);
        if (held.Length > 0)
        {
            command.Parameters.AddWithValue("held", held);
        }

        return command;
    }

    /// <summary>Experiments whose entries cannot be placed (damaged records) are left pending and skipped for a minute: the others go on.</summary>
    private string[] HeldBack()
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var (experiment, until) in _held)
        {
            if (until < now)
            {
                _held.Remove(experiment);
            }
        }

        return [.. _held.Keys];
    }

    private void HoldBack(string experimentId, string reason)
    {
        _held[experimentId] = Stopwatch.GetTimestamp() + (long)(HoldBackTime.TotalSeconds * Stopwatch.Frequency);
        PostgresLog.ExperimentHeldBack(_logger, experimentId, reason, HoldBackTime.TotalSeconds);
    }

    /// <summary>Locks the experiments' heads (in id order) and places each experiment's entries after its head; an experiment whose records do not fit together is held back.</summary>
    private async Task<List<(ChainAppend Append, List<long> Ids)>> PlaceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<(PendingAppend Append, List<long> Ids)> pending)
    {
        await using var read = new NpgsqlCommand(
            $"SELECT {PostgresState.ExperimentColumns} FROM seedd_experiments WHERE id = ANY(@ids::text[] COLLATE \"C\") ORDER BY id FOR NO KEY UPDATE", connection, transaction);
        read.Parameters.AddWithValue("ids", pending.Select(p => p.Append.ExperimentId).ToArray());
        var heads = new Dictionary<string, (ChainHead Head, MerkleFrontier Tree)>(StringComparer.Ordinal);
        var damagedRows = new Dictionary<string, string>(StringComparer.Ordinal);
        await using (var reader = await read.ExecuteReaderAsync(_stop.Token))
        {
            while (await reader.ReadAsync(_stop.Token))
            {
                try
                {
                    var (record, head, tree) = PostgresState.ReadExperiment(reader);
                    heads[record.Id] = (head, tree);
                }
                catch (InvalidDataException damaged)
                {
                    damagedRows[reader.GetString(0)] = damaged.Message;
                }
            }
        }

        var placed = new List<(ChainAppend, List<long>)>();
        foreach (var (append, ids) in pending)
        {
            if (!heads.TryGetValue(append.ExperimentId, out var at))
            {
                HoldBack(append.ExperimentId, damagedRows.GetValueOrDefault(append.ExperimentId, "the experiment is not in the database"));
                continue;
            }

            try
            {
                placed.Add((ChainAppender.Append(append, at.Head, at.Tree), ids));
            }
            catch (InvalidDataException damaged)
            {
                HoldBack(append.ExperimentId, damaged.Message);
            }
        }

        return placed;
    }

    /// <summary>How long each placed entry waited since it was issued (its time, on the issuing replica's clock).</summary>
    private void Integrated(List<ChainAppend> appends)
    {
        if (_observer is null)
        {
            return;
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var append in appends)
        {
            foreach (var placed in append.Events)
            {
                _observer.Integrated(TimeSpan.FromMilliseconds(Math.Max(0, now - append.Runs[placed.Run].TimeUnixMs)));
            }
        }
    }

    private readonly record struct PendingRow(long TimeMs, uint Worker, string Library, string Stream, ulong Seed64, string Principal, string Peer, string ClientHost, long ClientPid, string Labels)
    {
        public bool SameRun(PendingRow other) =>
            TimeMs == other.TimeMs && ClientPid == other.ClientPid && Principal == other.Principal && Peer == other.Peer && ClientHost == other.ClientHost && Labels == other.Labels;
    }

    private sealed class LeaseLostException() : Exception("the sequencer's lease was taken over");
}
