using System.Collections.Concurrent;
using LiteDB;
using Microsoft.Extensions.Logging;
using SeedDaemon.Daemon.Issuance;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The embedded store: one LiteDB file (plus its "-log" write-ahead file) on an
/// <see cref="IStorageMedium"/>, written only by a <see cref="GroupCommitWriter"/>. Experiments are
/// few and hot, so they are also kept in memory, updated once durable. After an I/O failure (disk
/// full) the session is reopened on the next write, so the daemon recovers without a restart.
/// </summary>
public sealed class LiteSeedStore : ISeedStore, ISessionSource
{
    private const int PageSize = 8192;

    private readonly IStorageMedium _medium;
    private readonly string _logPath;
    private readonly ReaderWriterLockSlim _visibility = new(LockRecursionPolicy.NoRecursion);
    private readonly ConcurrentDictionary<string, ExperimentRecord> _experiments = new(StringComparer.Ordinal);
    private readonly GroupCommitWriter _writer;
    private readonly ILogger _logger;
    private volatile LiteSession? _session;
    private Exception? _downBecause;

    private LiteSeedStore(string path, IStorageMedium medium, LiteSession session, int maxBatch, ILogger logger, Action<int, TimeSpan>? committed)
    {
        Location = path;
        _logPath = LogPath(path);
        _medium = medium;
        _logger = logger;
        _session = session;
        LoadExperiments(session);
        _writer = new GroupCommitWriter(this, _visibility, maxBatch, logger, committed);
        StoreLog.Opened(logger, path, _experiments.Count);
    }

    public string Location { get; }

    public bool IsWritable => _session is not null && _writer.IsRunning;

    public bool IsRunning => _writer.IsRunning;

    public long SizeBytes =>
        (_medium.FileExists(Location) ? _medium.FileLength(Location) : 0) + (_medium.FileExists(_logPath) ? _medium.FileLength(_logPath) : 0);

    /// <summary>
    /// Opens (or creates) the database at <paramref name="path"/>. A file that is not a LiteDB
    /// database, is damaged, or is in use fails with <see cref="StoreOpenException"/> and is left
    /// untouched: the store never starts over on a fresh file.
    /// </summary>
    /// <param name="committed">Told the size and duration of every group commit (for metrics).</param>
    public static LiteSeedStore Open(string path, int maxBatch, ILogger logger, IStorageMedium? medium = null, Action<int, TimeSpan>? committed = null)
    {
        medium ??= FileSystemMedium.Instance;
        path = Path.GetFullPath(path);
        CheckBeforeOpen(medium, path, LogPath(path));
        LiteSession session;
        try
        {
            session = LiteSession.Open(medium, path, LogPath(path), logger);
        }
        catch (Exception error)
        {
            throw new StoreOpenException(path, Describe(error), error);
        }

        try
        {
            return new LiteSeedStore(path, medium, session, maxBatch, logger, committed);
        }
        catch (Exception error)
        {
            session.Dispose();
            throw new StoreOpenException(path, Describe(error), error);
        }
    }

    public int ExperimentCount => _experiments.Count;

    public ExperimentRecord? FindExperiment(string experimentId) =>
        _experiments.TryGetValue(experimentId, out var experiment) ? experiment : null;

    public IReadOnlyList<ExperimentRecord> ListExperiments(string? afterId, int limit) =>
        _experiments.Values
            .Where(e => afterId is null || string.CompareOrdinal(e.Id, afterId) > 0)
            .OrderBy(e => e.Id, StringComparer.Ordinal)
            .Take(limit)
            .ToList();

    public Task<ExperimentRecord> CreateExperimentAsync(ExperimentRecord candidate, bool rootGiven, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new CreateExperimentOperation(candidate, rootGiven, Remember), cancellationToken);

    public Task<ExperimentRecord> FreezeExperimentAsync(string experimentId, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new FreezeExperimentOperation(experimentId, Remember), cancellationToken);

    public Task<IReadOnlyList<SeedRecord>> RecordIssuesAsync(IReadOnlyList<SeedIssue> issues, RequestOrigin origin, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new RecordIssuesOperation(issues, origin), cancellationToken);

    public Task<BackupInfo> BackupAsync(string targetPath, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new BackupOperation(targetPath), cancellationToken);

    public IReadOnlyList<SeedRecord> ListSeeds(string experimentId, SeedCursor? afterKey, int limit)
    {
        var lower = afterKey is { } after
            ? Documents.SeedId(experimentId, after.Worker, after.Library, after.Stream) + "\0"
            : Documents.KeyLowerBound(experimentId);
        return Read(session => Range(session.Seeds, lower, Documents.KeyUpperBound(experimentId), limit).Select(Documents.ToSeed).ToList());
    }

    public SeedRecord? FindSeed(string experimentId, uint worker, string library, string stream) =>
        Read(session => session.Seeds.FindById(Documents.SeedId(experimentId, worker, library, stream)) is { } document ? Documents.ToSeed(document) : null);

    public IReadOnlyList<LedgerRecord> ListEvents(string experimentId, ulong afterSequence, int limit) =>
        Read(session =>
        {
            // Start at the ledger document holding the first wanted event: the last one keyed at or before it.
            var wanted = LedgerDocuments.Id(experimentId, afterSequence + 1);
            var holding = session.Events.Query()
                .Where("_id BETWEEN @0 AND @1", Documents.KeyLowerBound(experimentId), wanted)
                .OrderByDescending("_id")
                .Select("_id")
                .Limit(1)
                .FirstOrDefault();
            var events = new List<LedgerRecord>(limit);
            foreach (var document in Range(session.Events, holding?["_id"].AsString ?? wanted, Documents.KeyUpperBound(experimentId), int.MaxValue))
            {
                foreach (var record in LedgerDocuments.ToEvents(document))
                {
                    if (record.Entry.Sequence > afterSequence)
                    {
                        events.Add(record);
                        if (events.Count == limit)
                        {
                            return events;
                        }
                    }
                }
            }

            return events;
        });

    public ChainHead GetChainHead(string experimentId) =>
        Read(session => session.Experiments.FindById(experimentId) is { } document
            ? Documents.HeadOf(document)
            : throw SeedDaemonException.ExperimentNotFound(experimentId));

    /// <summary>
    /// Runs a read on the open session under the read side of the lock the writer commits and
    /// flushes under: nothing that is not yet durable is seen.
    /// </summary>
    private T Read<T>(Func<LiteSession, T> read)
    {
        _visibility.EnterReadLock();
        try
        {
            return read(_session ?? throw Down());
        }
        finally
        {
            _visibility.ExitReadLock();
        }
    }

    private static IEnumerable<BsonDocument> Range(ILiteCollection<BsonDocument> collection, string lower, string upper, int limit) =>
        collection.Query()
            .Where("_id BETWEEN @0 AND @1", lower, upper)
            .OrderBy("_id")
            .Limit(limit)
            .ToEnumerable();

    LiteSession ISessionSource.Acquire()
    {
        if (_session is { } current)
        {
            return current;
        }

        try
        {
            var reopened = LiteSession.Open(_medium, Location, _logPath, _logger);
            LoadExperiments(reopened);
            _session = reopened;
            _downBecause = null;
            StoreLog.Reopened(_logger, Location);
            return reopened;
        }
        catch (Exception error)
        {
            _downBecause = error;
            throw StorageErrors.Translate(error);
        }
    }

    void ISessionSource.Abandon(LiteSession session, Exception cause)
    {
        _visibility.EnterWriteLock();
        try
        {
            if (ReferenceEquals(_session, session))
            {
                _session = null;
                _downBecause = cause;
            }
        }
        finally
        {
            _visibility.ExitWriteLock();
        }

        session.Abandon();
        StoreLog.SessionAbandoned(_logger, Location, cause);
    }

    public void Dispose()
    {
        try
        {
            _writer.Dispose();
            _session?.Dispose();
        }
        finally
        {
            _session = null;
            _visibility.Dispose();
            StoreLog.Closed(_logger, Location);
        }
    }

    internal static string LogPath(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path) + "-log" + Path.GetExtension(path));

    private void Remember(ExperimentRecord experiment) => _experiments[experiment.Id] = experiment;

    private void LoadExperiments(LiteSession session)
    {
        foreach (var document in session.Experiments.FindAll())
        {
            Remember(Documents.ToExperiment(document));
        }
    }

    private Exception Down() => _downBecause is { } cause
        ? StorageErrors.Translate(cause)
        : new SeedDaemonException(ErrorKind.Unavailable, "The seed database is not open; retry.");

    /// <summary>
    /// Refuses what LiteDB would otherwise "repair" by changing it: a data file that is not a whole
    /// number of pages (LiteDB crops it), or an empty or missing data file next to a non-empty log
    /// (LiteDB would start a fresh database). A torn tail is normal for the log after a crash,
    /// never for the data file.
    /// </summary>
    private static void CheckBeforeOpen(IStorageMedium medium, string path, string logPath)
    {
        if (medium.DirectoryExists(path))
        {
            throw new StoreOpenException(path, "it is a directory, not a database file.");
        }

        var logHasData = medium.FileExists(logPath) && medium.FileLength(logPath) > 0;
        if (!medium.FileExists(path))
        {
            if (logHasData)
            {
                throw new StoreOpenException(path, $"the database file is missing but its log {logPath} is not empty: the database was moved or deleted. Restore it from a backup, or remove the log to start a new database.");
            }

            return;
        }

        var length = medium.FileLength(path);
        if (length % PageSize != 0)
        {
            throw new StoreOpenException(path, $"the file is {length} bytes, not a whole number of {PageSize}-byte pages: it is damaged or not a LiteDB database. It was left untouched; restore it from a backup.");
        }

        if (length == 0 && logHasData)
        {
            throw new StoreOpenException(path, "the database file is empty but its log is not: it was truncated. It was left untouched; restore it from a backup.");
        }
    }

    private static string Describe(Exception error) => error switch
    {
        UnauthorizedAccessException => $"permission denied ({error.Message}).",
        IOException io when io.Message.Contains("being used by another process", StringComparison.OrdinalIgnoreCase)
            => "it is locked by another process (is another seedd running on it?).",
        IOException io => io.Message,
        LiteException { ErrorCode: LiteException.INVALID_DATABASE } => "it is not a LiteDB database or its header is damaged. It was left untouched; restore it from a backup.",
        LiteException lite => $"the database is damaged ({lite.Message}). It was left untouched; restore it from a backup.",
        InvalidDataException => error.Message,
        _ => $"{error.GetType().Name}: {error.Message}",
    };
}

/// <summary>How the group-commit writer gets the open session, and reports one that failed.</summary>
internal interface ISessionSource
{
    /// <summary>The open session, reopened first if the last one failed; throws a translated error when it cannot be opened.</summary>
    LiteSession Acquire();

    void Abandon(LiteSession session, Exception cause);
}
