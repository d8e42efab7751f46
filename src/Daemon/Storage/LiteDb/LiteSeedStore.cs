using System.Collections.Concurrent;
using LiteDB;
using LiteDB.Engine;
using Microsoft.Extensions.Logging;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The embedded store: one LiteDB file (plus its "-log" write-ahead file) opened over
/// <see cref="SyncedFileStream"/>s, written only by a <see cref="GroupCommitWriter"/>.
/// Experiments are few and hot, so they are also kept in memory, updated once durable.
/// </summary>
public sealed class LiteSeedStore : ISeedStore
{
    private const int PageSize = 8192;

    private readonly SyncedFileStream _data;
    private readonly SyncedFileStream _log;
    private readonly LiteDatabase _database;
    private readonly ILiteCollection<BsonDocument> _seeds;
    private readonly ReaderWriterLockSlim _visibility = new(LockRecursionPolicy.NoRecursion);
    private readonly GroupCommitWriter _writer;
    private readonly ConcurrentDictionary<string, ExperimentRecord> _experiments = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    private LiteSeedStore(string path, SyncedFileStream data, SyncedFileStream log, LiteDatabase database, int maxBatch, ILogger logger)
    {
        Location = path;
        _data = data;
        _log = log;
        _database = database;
        _logger = logger;
        _seeds = database.GetCollection(Documents.Seeds);
        foreach (var document in database.GetCollection(Documents.Experiments).FindAll())
        {
            var experiment = Documents.ToExperiment(document);
            _experiments[experiment.Id] = experiment;
        }

        _writer = new GroupCommitWriter(database, log, _visibility, maxBatch, logger);
        StoreLog.Opened(logger, path, _experiments.Count);
    }

    public string Location { get; }

    public bool IsWritable => _writer.IsRunning;

    /// <summary>
    /// Opens (or creates) the database at <paramref name="path"/>. A file that is not a LiteDB
    /// database, is damaged, or is in use fails with <see cref="StoreOpenException"/> and is left
    /// untouched: the store never starts over on a fresh file.
    /// </summary>
    public static LiteSeedStore Open(string path, int maxBatch, ILogger logger)
    {
        path = Path.GetFullPath(path);
        var logPath = LogPath(path);
        CheckBeforeOpen(path);

        SyncedFileStream? data = null;
        SyncedFileStream? log = null;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            data = new SyncedFileStream(path);
            log = new SyncedFileStream(logPath);
            var engine = new LiteEngine(new EngineSettings
            {
                DataStream = data,
                LogStream = log,
                Collation = Collation.Binary,
            });
            var database = new LiteDatabase(engine, disposeOnClose: true);
            return new LiteSeedStore(path, data, log, database, maxBatch, logger);
        }
        catch (Exception error) when (error is not StoreOpenException)
        {
            log?.Dispose();
            data?.Dispose();
            throw new StoreOpenException(path, Describe(error), error);
        }
    }

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

    public Task<IReadOnlyList<SeedRecord>> RecordIssuesAsync(IReadOnlyList<SeedIssue> issues, string requester, CancellationToken cancellationToken) =>
        _writer.SubmitAsync(new RecordIssuesOperation(issues, requester), cancellationToken);

    public IReadOnlyList<SeedRecord> ListSeeds(string experimentId, SeedCursor? afterKey, int limit)
    {
        var lower = afterKey is { } after
            ? Documents.SeedId(experimentId, after.Worker, after.Library, after.Stream) + "\0"
            : Documents.SeedIdLowerBound(experimentId);
        var upper = Documents.SeedIdUpperBound(experimentId);

        _visibility.EnterReadLock();
        try
        {
            return _seeds.Query()
                .Where("_id BETWEEN @0 AND @1", lower, upper)
                .OrderBy("_id")
                .Limit(limit)
                .ToEnumerable()
                .Select(Documents.ToSeed)
                .ToList();
        }
        finally
        {
            _visibility.ExitReadLock();
        }
    }

    public void Dispose()
    {
        _writer.Dispose();
        _database.Dispose();
        _log.Dispose();
        _data.Dispose();
        _visibility.Dispose();
        StoreLog.Closed(_logger, Location);
    }

    internal static string LogPath(string path) =>
        Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileNameWithoutExtension(path) + "-log" + Path.GetExtension(path));

    private void Remember(ExperimentRecord experiment) => _experiments[experiment.Id] = experiment;

    /// <summary>
    /// LiteDB crops a data file whose length is not a whole number of pages. A torn tail is normal
    /// for the log after a crash, never for the data file: refuse it instead of changing it.
    /// </summary>
    private static void CheckBeforeOpen(string path)
    {
        if (Directory.Exists(path))
        {
            throw new StoreOpenException(path, "it is a directory, not a database file.");
        }

        if (File.Exists(path))
        {
            var length = new FileInfo(path).Length;
            if (length % PageSize != 0)
            {
                throw new StoreOpenException(path, $"the file is {length} bytes, not a whole number of {PageSize}-byte pages: it is damaged or not a LiteDB database. It was left untouched; restore it from a backup.");
            }
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
