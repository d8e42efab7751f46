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
/// waiting until PostgreSQL ends its transaction (idle_in_transaction_session_timeout). The round
/// takes pending entries in the order they were written, gives them sequences after each
/// experiment's head (<see cref="ChainAppender"/>), and writes the events, the completed subtrees and
/// the new heads and trees; the entries leave the pending table in the same transaction. Each event
/// keeps the epoch that placed it (<c>seedd_ledger_events.epoch</c>; null before schema 4).
/// </summary>
internal sealed class PostgresSequencer : IDisposable
{
    /// <summary>How long a lease lasts without renewal: a dead holder's entries wait this long at most, plus one try.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    /// <summary>The most entries one round places.</summary>
    public const int MaxRound = 20_000;

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
        ALTER TABLE seedd_ledger_events ADD COLUMN epoch bigint;
        """;

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly IRecordingObserver? _observer;
    private readonly Func<bool> _ready;
    private readonly string _identity = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}");
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _epoch;
    private long _renewedAt;
    private volatile bool _draining;

    /// <param name="ready">Whether the database is reachable with seedd's schema (the backend's probe knows): until then the sequencer waits.</param>
    public PostgresSequencer(NpgsqlDataSource dataSource, Func<bool> ready, ILogger logger, IRecordingObserver? observer)
    {
        _dataSource = dataSource;
        _ready = ready;
        _logger = logger;
        _observer = observer;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>The lease's epoch while this replica holds it; 0 when it does not.</summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    /// <summary>This replica wrote pending entries: a holder looks at once instead of at its next poll.</summary>
    public void Nudge()
    {
        if (Epoch != 0 && _wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>A holder first places what is pending (a few seconds at most), so that a stopped fleet leaves nothing waiting; then the loop stops.</summary>
    public void Dispose()
    {
        _draining = true;
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }

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

        _stop.Dispose();
        _wake.Dispose();
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
                    idle = TimeSpan.FromMilliseconds(1);
                    continue;
                }

                if (_draining)
                {
                    return;
                }

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
                // The database is away or failing over: the round rolled back, nothing was placed. Try again shortly.
                PostgresLog.SequencerFailed(_logger, error.Message);
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

    /// <summary>Takes the lease when it expired (on PostgreSQL's clock): a new epoch.</summary>
    private async Task<bool> TryAcquireAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync(_stop.Token);
        await using var command = new NpgsqlCommand(
            "UPDATE seedd_sequencer SET holder = @me, epoch = epoch + 1, expires_at = now() + @lease WHERE id = 1 AND expires_at < now() RETURNING epoch", connection);
        command.Parameters.AddWithValue("me", _identity);
        command.Parameters.AddWithValue("lease", Lease);
        if (await command.ExecuteScalarAsync(_stop.Token) is not long epoch)
        {
            return false;
        }

        Interlocked.Exchange(ref _epoch, epoch);
        _renewedAt = Stopwatch.GetTimestamp();
        PostgresLog.LeaseTaken(_logger, _identity, epoch);
        return true;
    }

    /// <summary>One round: renews the lease (fenced), places what is pending. Returns the number of entries placed.</summary>
    private async Task<int> RoundAsync()
    {
        await using var connection = await _dataSource.OpenConnectionAsync(_stop.Token);
        if (Stopwatch.GetElapsedTime(_renewedAt) < Lease / 3)
        {
            // Within the lease: a look costs a read, not a commit.
            await using var look = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM seedd_pending_entries)", connection);
            if (await look.ExecuteScalarAsync(_stop.Token) is false)
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

        var renewedAt = Stopwatch.GetTimestamp();
        var pending = await TakePendingAsync(connection, transaction);
        var appends = pending.Count == 0 ? [] : await PlaceAsync(connection, transaction, pending);
        if (appends.Count > 0)
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            PostgresWrites.AddAppends(batch, appends, Epoch);
            await batch.ExecuteNonQueryAsync(_stop.Token);
        }

        await transaction.CommitAsync(_stop.Token);
        _renewedAt = renewedAt;
        if (appends.Count > 0)
        {
            Integrated(appends);
        }

        return appends.Sum(a => a.Events.Count);
    }

    /// <summary>Removes up to <see cref="MaxRound"/> pending entries, oldest first, and groups them by experiment (in their order).</summary>
    private async Task<List<PendingAppend>> TakePendingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        await using var take = new NpgsqlCommand(
            $"""
            DELETE FROM seedd_pending_entries WHERE id IN (SELECT id FROM seedd_pending_entries ORDER BY id LIMIT {MaxRound})
            RETURNING id, experiment_id, {PostgresWrites.PendingColumns.Replace("client_labels", "client_labels::text", StringComparison.Ordinal)}
            """, connection, transaction);
        await using var reader = await take.ExecuteReaderAsync(_stop.Token);
        var rows = new List<(long Id, string Experiment, PendingRow Row)>();
        while (await reader.ReadAsync(_stop.Token))
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1), new PendingRow(reader.GetInt64(2), (uint)reader.GetInt64(3), reader.GetString(4), reader.GetString(5),
                unchecked((ulong)reader.GetInt64(6)), reader.GetString(7), reader.GetString(8), reader.GetString(9), reader.GetInt64(10), reader.GetString(11))));
        }

        rows.Sort((a, b) => a.Id.CompareTo(b.Id));
        var appends = new Dictionary<string, (PendingAppend Append, PendingRow? Last)>(StringComparer.Ordinal);
        foreach (var (_, experiment, row) in rows)
        {
            if (!appends.TryGetValue(experiment, out var current))
            {
                current = (new PendingAppend(experiment), null);
            }

            // Entries of one request share their run (time and origin), as the replica wrote them.
            if (current.Last is not { } last || !row.SameRun(last))
            {
                current.Append.Runs.Add(new EventRun(row.TimeMs, new RequestOrigin(row.Principal, row.Peer, row.ClientHost, row.ClientPid, PostgresState.Labels(row.Labels))));
            }

            current.Append.Entries.Add(new PendingEntry(current.Append.Runs.Count - 1, row.Worker, row.Library, row.Stream, row.Seed64));
            appends[experiment] = (current.Append, row);
        }

        return appends.Values.Select(a => a.Append).ToList();
    }

    /// <summary>Locks the experiments' heads (in id order) and places each experiment's entries after its head.</summary>
    private async Task<List<ChainAppend>> PlaceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, List<PendingAppend> pending)
    {
        await using var read = new NpgsqlCommand(
            $"SELECT {PostgresState.ExperimentColumns} FROM seedd_experiments WHERE id = ANY(@ids::text[] COLLATE \"C\") ORDER BY id FOR NO KEY UPDATE", connection, transaction);
        read.Parameters.AddWithValue("ids", pending.Select(p => p.ExperimentId).ToArray());
        var heads = new Dictionary<string, (ChainHead Head, MerkleFrontier Tree)>(StringComparer.Ordinal);
        await using (var reader = await read.ExecuteReaderAsync(_stop.Token))
        {
            while (await reader.ReadAsync(_stop.Token))
            {
                var (record, head, tree) = PostgresState.ReadExperiment(reader);
                heads[record.Id] = (head, tree);
            }
        }

        return pending.Select(p => heads.TryGetValue(p.ExperimentId, out var at)
                ? ChainAppender.Append(p, at.Head, at.Tree)
                : throw new InvalidDataException($"entries are pending for experiment '{p.ExperimentId}', which is not in the database"))
            .ToList();
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
