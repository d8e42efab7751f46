using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Npgsql;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;

using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Storage.Postgres;

/// <summary>
/// The replicated backend: any number of stateless seedd replicas over one PostgreSQL database,
/// appending to one experiment side by side. A group commit is one transaction: it share-locks the
/// rows of the experiments it touches (FOR KEY SHARE, which replicas hold together; a freeze takes
/// FOR UPDATE and waits for them, queued by each experiment's advisory lock: see <see cref="PostgresState"/>), locks the records of the keys it issues (FOR UPDATE, in key
/// order), lets <see cref="BatchPlanner"/> decide, writes everything with one statement per table
/// (arrays through <c>unnest</c>), the ledger entries into <c>seedd_pending_entries</c>, and
/// commits; the seeds are answered only after the commit returned, that is after PostgreSQL
/// flushed it (and, with a synchronous standby, after the standby has it). The entries get their
/// places in the log afterwards, from the one replica holding the sequencer's lease
/// (<see cref="PostgresSequencer"/>). Two replicas creating one experiment, or issuing one new key,
/// race on its primary key: the loser's transaction is retried and finds the winner's row. While the
/// database is unreachable the replica answers UNAVAILABLE, reports NOT_SERVING and reconnects by itself.
/// </summary>
internal sealed class PostgresBackend : IStoreBackend
{
    private const int MaxAttempts = 8;

    private readonly NpgsqlDataSource _dataSource;

    /// <summary>The hosts behind <see cref="_dataSource"/> (which picks the primary among them): where Npgsql keeps which it took for down.</summary>
    private readonly NpgsqlMultiHostDataSource _hosts;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, ExperimentRecord> _immutable = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<ExperimentRecord?>>> _lookups = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _probe;
    private readonly PostgresSequencer _sequencer;
    private readonly IntegrationWaiters _waiters;
    private readonly int _maxConnections;
    private readonly int _timeoutSeconds;
    private volatile bool _writable;
    private volatile bool _schemaReady;
    private int _connectionsInUse;

    // Set before the probe starts: a schema created later (the database was down at start) records it.
    private readonly string _verifierKey;

    private PostgresBackend(NpgsqlMultiHostDataSource hosts, NpgsqlDataSource dataSource, string location, NpgsqlConnectionStringBuilder settings, bool schemaReady, string verifierKey, ILogger logger, IRecordingObserver? observer)
    {
        _hosts = hosts;
        _dataSource = dataSource;
        _verifierKey = verifierKey;
        Location = location;
        _maxConnections = settings.MaxPoolSize;
        _timeoutSeconds = settings.Timeout;
        _logger = logger;
        _schemaReady = _writable = schemaReady;
        _probe = Task.Run(ProbeAsync);
        _sequencer = new PostgresSequencer(dataSource, () => _schemaReady && _writable, ClearHostStates, logger, observer);
        _waiters = new IntegrationWaiters(
            async (experimentId, cancellationToken) => await PendingScalarAsync("SELECT min(id) FROM seedd_pending_entries WHERE experiment_id = @e COLLATE \"C\"", experimentId, cancellationToken) as long?,
            _stop.Token);
    }

    public string Location { get; }

    public bool IsWritable => _writable;

    public StoreStatistics Statistics => new(0, _immutable.Count, new Dictionary<string, double>
    {
        ["seedd_store_connections_in_use"] = Volatile.Read(ref _connectionsInUse),
        ["seedd_store_connections_max"] = _maxConnections,
        ["seedd_sequencer_epoch"] = _sequencer.Epoch,
        ["seedd_sequencer_experiments_held_back"] = _sequencer.HeldBackCount,
    });

    /// <summary>
    /// Connects and creates or migrates the schema. A wrong password, a missing database, a role
    /// without the rights it needs or a schema from a newer seedd stop the start
    /// (<see cref="StoreOpenException"/>, naming the cause, never the password); a database that
    /// cannot be reached yet does not: the replica starts NOT_SERVING and keeps trying.
    /// </summary>
    /// <param name="verifierKey">The key this replica signs checkpoints with: every replica of one database must have the same.</param>
    /// <param name="observer">Told how long entries waited for their place in the log (when this replica is the sequencer).</param>
    public static PostgresBackend Open(string connectionString, string verifierKey, ILogger logger, IRecordingObserver? observer = null)
    {
        var builder = PostgresConnection.WithSeeddDefaults(PostgresConnection.Parse(connectionString));
        var location = PostgresConnection.Describe(builder);
        var (hosts, dataSource) = Build(builder);
        var ready = false;
        try
        {
            var found = PostgresSchema.Ensure(dataSource, verifierKey);
            PostgresLog.SchemaReady(logger, location, found, PostgresSchema.Version);
            ready = true;
        }
        catch (Exception error) when (IsUnreachable(error))
        {
            PostgresLog.Unreachable(logger, location, Describe(error));
        }
        catch (Exception error)
        {
            dataSource.Dispose();
            hosts.Dispose();
            throw new StoreOpenException(location, error is LedgerKeyMismatchException ? error.Message : Describe(error), error);
        }

        return new PostgresBackend(hosts, dataSource, location, builder, ready, verifierKey, logger, observer);
    }

    /// <summary>One transaction, durable when COMMIT returns; the next batch waits for it.</summary>
    public Task<PreparedBatch> Commit(IReadOnlyList<StoreOperation> operations) => Task.FromResult(CommitNow(operations));

    private PreparedBatch CommitNow(IReadOnlyList<StoreOperation> operations)
    {
        var experiments = BatchPlanner.ExperimentsOf(operations);
        var keys = BatchPlanner.KeysOf(operations);
        var processes = BatchPlanner.ProcessesOf(operations);
        var steps = BatchPlanner.StepsOf(operations);
        var freezes = operations.Any(o => o is FreezeExperimentOperation);
        for (var attempt = 1; ; attempt++)
        {
            Interlocked.Increment(ref _connectionsInUse);
            try
            {
                EnsureSchema();
                using var connection = _dataSource.OpenConnection();
                using var transaction = connection.BeginTransaction();
                var state = PostgresState.Read(connection, transaction, experiments, keys, processes, steps, exclusive: freezes);
                var prepared = BatchPlanner.Plan(operations, state, () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), integrate: false);
                if (!prepared.IsEmpty)
                {
                    PostgresWrites.Execute(connection, transaction, prepared, state);
                }

                transaction.Commit();
                _writable = true;
                if (prepared.Pending.Count > 0)
                {
                    _sequencer.Nudge();
                }

                return prepared;
            }
            catch (Exception error) when (IsRetryable(error) && attempt < MaxAttempts)
            {
                // Another replica won a race (the same new experiment, a deadlock): plan again on what it committed.
                PostgresLog.Retrying(_logger, attempt, Describe(error));
            }
            catch (Exception error)
            {
                throw Translate(error);
            }
            finally
            {
                Interlocked.Decrement(ref _connectionsInUse);
            }
        }
    }

    public BackupInfo Backup(string targetPath) =>
        throw new SeedDaemonException(ErrorKind.FailedPrecondition, "CreateBackup copies the embedded LiteDB file; this seedd stores its records in PostgreSQL. Back up the database itself: pg_dump for a logical copy, pg_basebackup (or your provider's snapshots) with WAL archiving for point-in-time recovery.");

    public void Idle()
    {
    }

    public void DisposeAfterRefusedStart() => Dispose();

    public ValueTask<ExperimentRecord?> FindExperimentAsync(string experimentId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT {PostgresState.ExperimentColumns} FROM seedd_experiments WHERE id = @id COLLATE \"C\"", connection);
            command.Parameters.AddWithValue("id", experimentId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? Remember(PostgresState.ReadExperiment(reader).Record) : null;
        }, cancellationToken);

    /// <summary>
    /// Root and scheme never change: once seen, an experiment is answered from memory for deriving
    /// seeds (the rules read it again, locked). Until then, callers asking at once share one read:
    /// a thousand workers starting together on a new replica take one connection, not the pool.
    /// </summary>
    public ValueTask<ExperimentRecord?> FindExperimentForIssueAsync(string experimentId, CancellationToken cancellationToken) =>
        _immutable.TryGetValue(experimentId, out var known) ? new(known)
        : new(_lookups.GetOrAdd(experimentId, id => new(() => ReadOnceAsync(id))).Value.WaitAsync(cancellationToken));

    /// <summary>The shared read; not cancelled by any one caller, and forgotten when done (a missing experiment may be created next).</summary>
    private async Task<ExperimentRecord?> ReadOnceAsync(string experimentId)
    {
        try
        {
            return await FindExperimentAsync(experimentId, CancellationToken.None);
        }
        finally
        {
            _lookups.TryRemove(experimentId, out _);
        }
    }

    public ValueTask<IReadOnlyList<ExperimentRecord>> ListExperimentsAsync(string? afterId, int limit, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ExperimentRecord>>(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT {PostgresState.ExperimentColumns} FROM seedd_experiments WHERE id > @after COLLATE \"C\" ORDER BY id LIMIT @limit", connection);
            command.Parameters.AddWithValue("after", afterId ?? "");
            command.Parameters.AddWithValue("limit", limit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<ExperimentRecord>();
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(Remember(PostgresState.ReadExperiment(reader).Record));
            }

            return list;
        }, cancellationToken);

    public ValueTask<IReadOnlyList<SeedRecord>> ListSeedsAsync(string experimentId, SeedCursor? afterKey, int limit, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<SeedRecord>>(async connection =>
        {
            await using var command = new NpgsqlCommand(
                """
                SELECT worker, library, stream, seed64, first_issue_ms, first_requester, issue_count FROM seedd_issued_seeds
                WHERE experiment_id = @e COLLATE "C" AND (worker, library, stream) > (@w, @l COLLATE "C", @s COLLATE "C")
                ORDER BY worker, library, stream LIMIT @limit
                """, connection);
            command.Parameters.AddWithValue("e", experimentId);
            command.Parameters.AddWithValue("w", afterKey is { } after ? (long)after.Worker : -1L);
            command.Parameters.AddWithValue("l", afterKey?.Library ?? "");
            command.Parameters.AddWithValue("s", afterKey?.Stream ?? "");
            command.Parameters.AddWithValue("limit", limit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<SeedRecord>();
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(ReadSeed(experimentId, reader));
            }

            return list;
        }, cancellationToken);

    public ValueTask<SeedRecord?> FindSeedAsync(SeedKey key, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT worker, library, stream, seed64, first_issue_ms, first_requester, issue_count FROM seedd_issued_seeds WHERE experiment_id = @e COLLATE \"C\" AND worker = @w AND library = @l COLLATE \"C\" AND stream = @s COLLATE \"C\"", connection);
            AddKey(command, key);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? ReadSeed(key.ExperimentId, reader) : null;
        }, cancellationToken);

    public ValueTask<IReadOnlyList<LedgerRecord>> ListEventsAsync(string experimentId, ulong afterSequence, int limit, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<LedgerRecord>>(async connection =>
        {
            await using var command = new NpgsqlCommand(
                $"""
                SELECT {PostgresState.EventColumns}, prev_hash, hash
                FROM seedd_ledger_events WHERE experiment_id = @e COLLATE "C" AND sequence > @after ORDER BY sequence LIMIT @limit
                """, connection);
            command.Parameters.AddWithValue("e", experimentId);
            command.Parameters.AddWithValue("after", (long)afterSequence);
            command.Parameters.AddWithValue("limit", limit);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<LedgerRecord>();
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(PostgresState.ReadEvent(experimentId, reader));
            }

            return list;
        }, cancellationToken);

    /// <summary>
    /// The key's first event straight from the index on (experiment, key, sequence): the lowest
    /// sequence of the key, if it was recorded at the key's first issue time and is within the first
    /// <paramref name="size"/> events. Exact whatever the clocks did: a key's repeat is written only
    /// after its first issue committed, so the sequencer places it later.
    /// </summary>
    public ValueTask<LedgerRecord?> FindFirstEventAsync(SeedKey key, long unixMs, long size, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                $"""
                SELECT {PostgresState.EventColumns}, prev_hash, hash FROM seedd_ledger_events
                WHERE experiment_id = @e COLLATE "C" AND worker = @w AND library = @l AND stream = @s ORDER BY sequence LIMIT 1
                """, connection);
            AddKey(command, key);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var first = await reader.ReadAsync(cancellationToken) ? PostgresState.ReadEvent(key.ExperimentId, reader) : null;
            return first is { Entry: var entry } && entry.TimeUnixMilliseconds == unixMs && (long)entry.Sequence <= size ? first : null;
        }, cancellationToken);

    /// <summary>
    /// Waits until every entry of the experiment that was pending when called has its place, nudging
    /// this replica's sequencer; false when some still wait after <see cref="PostgresSequencer.IntegrationWait"/>.
    /// </summary>
    public async ValueTask<bool> WaitForIntegrationAsync(string experimentId, CancellationToken cancellationToken)
    {
        var newest = await PendingScalarAsync("SELECT max(id) FROM seedd_pending_entries WHERE experiment_id = @e COLLATE \"C\"", experimentId, cancellationToken);
        if (newest is not long last)
        {
            return true;
        }

        _sequencer.Nudge();
        return await _waiters.WaitAsync(experimentId, last, cancellationToken);
    }

    public ValueTask<bool> IsPendingAsync(SeedKey key, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT EXISTS (SELECT 1 FROM seedd_pending_entries WHERE experiment_id = @e COLLATE \"C\" AND worker = @w AND library = @l AND stream = @s)", connection);
            AddKey(command, key);
            return await command.ExecuteScalarAsync(cancellationToken) is true;
        }, cancellationToken);

    private ValueTask<object?> PendingScalarAsync(string sql, string experimentId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddWithValue("e", experimentId);
            var value = await command.ExecuteScalarAsync(cancellationToken);
            return value is DBNull ? null : value;
        }, cancellationToken);

    public ValueTask<IReadOnlyList<ProcessRecord>> ListProcessesAsync(string experimentId, string? runId, CancellationToken cancellationToken) =>
        ReadRowsAsync(connection => PostgresRuns.ListProcesses(connection, experimentId, runId), PostgresRuns.ReadProcess, cancellationToken);

    public async ValueTask<StepFingerprint?> FindFingerprintAsync(ProcessKey key, long step, CancellationToken cancellationToken) =>
        (await ReadRowsAsync(connection => PostgresRuns.FindFingerprint(connection, key, step), PostgresRuns.ReadFingerprint, cancellationToken)).SingleOrDefault()?.Fingerprint;

    public async ValueTask<FingerprintPage> ListFingerprintsAsync(string experimentId, string runId, long fromStep, FingerprintCursor? after, int limit, CancellationToken cancellationToken)
    {
        var records = await ReadRowsAsync(connection => PostgresRuns.ListFingerprints(connection, experimentId, runId, fromStep, after, limit), PostgresRuns.ReadFingerprint, cancellationToken);
        return new FingerprintPage(records, FingerprintCursor.After(records, limit));
    }

    public ValueTask<MerkleFrontier> GetTreeAsync(string experimentId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT {PostgresState.ExperimentColumns} FROM seedd_experiments WHERE id = @id COLLATE \"C\"", connection);
            command.Parameters.AddWithValue("id", experimentId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken) ? PostgresState.ReadExperiment(reader).Tree : throw SeedDaemonException.ExperimentNotFound(experimentId);
        }, cancellationToken);

    public ValueTask<IReadOnlyList<byte[]>> ListTreeNodesAsync(string experimentId, int level, long start, long end, CancellationToken cancellationToken) =>
        ReadAsync(connection => PostgresTrees.ReadNodesAsync(connection, experimentId, level, start, end, cancellationToken), cancellationToken);

    public ValueTask<ChainHead> GetChainHeadAsync(string experimentId, CancellationToken cancellationToken) =>
        ReadAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT head_sequence, head_hash FROM seedd_experiments WHERE id = @id COLLATE \"C\"", connection);
            command.Parameters.AddWithValue("id", experimentId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw SeedDaemonException.ExperimentNotFound(experimentId);
            }

            var sequence = (ulong)reader.GetInt64(0);
            return sequence == 0 ? ChainHead.Genesis : new ChainHead(sequence, LedgerHash.ToHex(reader.GetFieldValue<byte[]>(1)));
        }, cancellationToken);

    public void Dispose()
    {
        _sequencer.Dispose();
        _stop.Cancel();
        try
        {
            _probe.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Cancelled.
        }

        _stop.Dispose();
        _dataSource.Dispose();
        _hosts.Dispose();
    }

    private static (NpgsqlMultiHostDataSource Hosts, NpgsqlDataSource Primary) Build(NpgsqlConnectionStringBuilder builder)
    {
        builder = new NpgsqlConnectionStringBuilder(builder.ConnectionString);

        // A replica writes: with several hosts it needs the primary (read-write), and follows it after a fail-over.
        var target = ParseTarget(builder.TargetSessionAttributes) ?? TargetSessionAttributes.ReadWrite;
        builder.TargetSessionAttributes = null;
        var hosts = new NpgsqlDataSourceBuilder(builder.ConnectionString).BuildMultiHost();
        return (hosts, hosts.WithTargetSession(target));
    }

    private static TargetSessionAttributes? ParseTarget(string? text) =>
        text is null ? null
        : Enum.TryParse<TargetSessionAttributes>(text.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var target) ? target
        : throw new ArgumentException($"Target Session Attributes '{text}' is not any, primary, standby, prefer-primary, prefer-standby, read-write or read-only.");

    private void EnsureSchema()
    {
        if (!_schemaReady)
        {
            try
            {
                PostgresSchema.Ensure(_dataSource, _verifierKey);
            }
            catch (LedgerKeyMismatchException mismatch)
            {
                throw new SeedDaemonException(ErrorKind.Unavailable, $"{Location}: {mismatch.Message}. Nothing was recorded and no seed was issued.");
            }

            _schemaReady = true;
            PostgresLog.SchemaReady(_logger, Location, -1, PostgresSchema.Version);
        }
    }

    /// <summary>Every row <paramref name="query"/> answers, each read by <paramref name="row"/>.</summary>
    private ValueTask<IReadOnlyList<T>> ReadRowsAsync<T>(Func<NpgsqlConnection, NpgsqlCommand> query, Func<NpgsqlDataReader, T> row, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<T>>(async connection =>
        {
            await using var command = query(connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var list = new List<T>();
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(row(reader));
            }

            return list;
        }, cancellationToken);

    private async ValueTask<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _connectionsInUse);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            return await read(connection);
        }
        catch (Exception error) when (error is not SeedDaemonException and not OperationCanceledException)
        {
            throw Translate(error);
        }
        finally
        {
            Interlocked.Decrement(ref _connectionsInUse);
        }
    }

    /// <summary>A key as the parameters @e, @w, @l and @s.</summary>
    private static void AddKey(NpgsqlCommand command, SeedKey key)
    {
        command.Parameters.AddWithValue("e", key.ExperimentId);
        command.Parameters.AddWithValue("w", (long)key.Worker);
        command.Parameters.AddWithValue("l", key.Library);
        command.Parameters.AddWithValue("s", key.Stream);
    }

    private ExperimentRecord Remember(ExperimentRecord record)
    {
        _immutable.TryAdd(record.Id, record);
        return record;
    }

    private static SeedRecord ReadSeed(string experimentId, NpgsqlDataReader reader) =>
        new(new SeedKey(experimentId, (uint)reader.GetInt64(0), reader.GetString(1), reader.GetString(2)), unchecked((ulong)reader.GetInt64(3)),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)).UtcDateTime, reader.GetString(5), (ulong)reader.GetInt64(6));

    /// <summary>Every second while the database cannot be written: reconnect (and finish the schema), then report SERVING again.</summary>
    private async Task ProbeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _stop.Token);
                if (_writable)
                {
                    continue;
                }

                EnsureSchema();
                await using var connection = await _dataSource.OpenConnectionAsync(_stop.Token);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(_stop.Token);
                _writable = true;
                PostgresLog.Reachable(_logger, Location);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                ClearHostStates();
                if (!IsUnreachable(error))
                {
                    PostgresLog.ProbeFailed(_logger, Location, Describe(error));
                }
            }
        }
    }

    /// <summary>
    /// Forgets which hosts Npgsql took for down. A connection PostgreSQL ended (a session timeout,
    /// <c>pg_terminate_backend</c>) or lost makes Npgsql take its host for down for 10 s (Host Recheck
    /// Seconds) and refuse every open meanwhile ("No suitable host was found"): the next open should
    /// try the host again instead.
    /// </summary>
    private void ClearHostStates() => _hosts.ClearDatabaseStates();

    /// <summary>Storage failures as errors a client can act on; the replica turns NOT_SERVING while the database is away.</summary>
    private Exception Translate(Exception error)
    {
        if (error is SeedDaemonException)
        {
            return error;
        }

        if (error is InvalidDataException damaged)
        {
            // What the database holds does not fit together (a stored subtree missing, a tree that does not fit its events).
            return new SeedDaemonException(ErrorKind.DataLoss, $"{Location} holds damaged records: {damaged.Message}. Nothing was answered from them.");
        }

        if (error is PostgresException { SqlState: PostgresErrorCodes.TooManyConnections })
        {
            // Npgsql took the host for down: the next call should try it again, not fail on that.
            ClearHostStates();
            return new SeedDaemonException(ErrorKind.Unavailable, string.Create(CultureInfo.InvariantCulture,
                $"{Location} refused a connection ({Describe(error)}): it allows fewer connections than this replica's pool may open (Maximum Pool Size={_maxConnections}). Lower it, or raise max_connections or the role's CONNECTION LIMIT. Nothing was recorded and no seed was issued. Retry."));
        }

        if (IsPoolExhausted(error))
        {
            // The database answers; this replica is busier than its pool. Health stays SERVING.
            return new SeedDaemonException(ErrorKind.Unavailable, string.Create(CultureInfo.InvariantCulture,
                $"{Location}: this replica waited {_timeoutSeconds} s for one of its {_maxConnections} connections (Maximum Pool Size) and none came free: it has more requests at once than connections, or a transaction elsewhere holds a lock its commits wait for. Raise Maximum Pool Size or Timeout (seconds) in the connection string. Nothing was recorded and no seed was issued. Retry."));
        }

        if (error is PostgresException { SqlState: PostgresErrorCodes.DiskFull })
        {
            return new SeedDaemonException(ErrorKind.ResourceExhausted, $"{Location} is out of space ({Describe(error)}); nothing was recorded and no seed was issued.");
        }

        if (error is PostgresException { SqlState: PostgresErrorCodes.OutOfMemory })
        {
            // Most often its lock table: every transaction of seedd's holds one advisory lock per experiment it touches.
            return new SeedDaemonException(ErrorKind.ResourceExhausted, $"{Location} is out of shared memory ({Describe(error)}): when its lock table is full, raise max_locks_per_transaction (each seedd transaction holds one lock per experiment it touches, up to 512). Nothing was recorded and no seed was issued.");
        }

        if (error is PostgresException { SqlState: IdleInTransactionSessionTimeout })
        {
            ClearHostStates();
            // The replica stopped inside its commit (a frozen VM, SIGSTOP) for longer than PostgresConnection.IdleInTransactionTimeout.
            return new SeedDaemonException(ErrorKind.Unavailable, $"{Location} ended this replica's transaction ({Describe(error)}): the replica stopped inside its commit for longer than idle_in_transaction_session_timeout, and the other replicas went on. Nothing was recorded and no seed was issued. Retry.");
        }

        if (IsUnreachable(error) || error is PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction } || error is SchemaTooNewException)
        {
            _writable = false;
            ClearHostStates();
            return new SeedDaemonException(ErrorKind.Unavailable, $"{Location} cannot be written right now ({Describe(error)}); nothing was recorded and no seed was issued. Retry.");
        }

        return error;
    }

    /// <summary>PostgreSQL's code for a session it ended for idle_in_transaction_session_timeout (Npgsql names no constant for it).</summary>
    private const string IdleInTransactionSessionTimeout = "25P03";

    /// <summary>The database could not be reached, or is shutting down or starting: worth waiting for.</summary>
    private static bool IsUnreachable(Exception error) => error switch
    {
        PostgresException postgres => postgres.SqlState.StartsWith("08", StringComparison.Ordinal) || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal),
        NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException => true,
        _ => false,
    };

    /// <summary>Npgsql's pool gave no connection within Timeout (with several hosts, wrapped in "Unable to connect to a suitable host").</summary>
    private static bool IsPoolExhausted(Exception error) => error switch
    {
        NpgsqlException { InnerException: TimeoutException } npgsql when npgsql.Message.StartsWith("The connection pool has been exhausted", StringComparison.Ordinal) => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsPoolExhausted),
        { InnerException: { } inner } => IsPoolExhausted(inner),
        _ => false,
    };

    private static bool IsRetryable(Exception error) => error is PostgresException
    {
        SqlState: PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected,
    } or ConcurrentCreationException;

    /// <summary>What went wrong, in PostgreSQL's words and code; never a password.</summary>
    private static string Describe(Exception error) => error switch
    {
        PostgresException postgres => $"{postgres.MessageText} ({postgres.SqlState})",
        NpgsqlException { InnerException: AggregateException aggregate } => string.Join("; ", aggregate.InnerExceptions.Select(Describe)),
        NpgsqlException { InnerException: { } inner } => $"{error.Message.TrimEnd('.')}: {inner.Message}",

        // Npgsql's words when it tried no host: each was marked down by a failure in the last seconds, or is not a primary.
        NpgsqlException { Message: "No suitable host was found." } => "no host was tried: each failed moments ago (seedd tries again on the next call) or is not a writable primary",
        _ => error.Message,
    };
}
