using LiteDB;
using LiteDB.Engine;
using Microsoft.Extensions.Logging;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// One open LiteDB database over its data and log streams. LiteDB closes its engine for good after
/// an I/O error, so the store abandons a failed session and opens a new one.
/// </summary>
internal sealed class LiteSession : IDisposable
{
    private LiteSession(LiteDatabase database, Stream data, Stream log, string path, ILogger logger)
    {
        Database = database;
        IssuedKeys = IssuedKeys.StartLoading(
            database,
            (keys, elapsed) => StoreLog.IssuedKeysLoaded(logger, path, keys, elapsed.TotalSeconds),
            error => StoreLog.IssuedKeysFailed(logger, path, error));
        Data = data;
        Log = log;
        Experiments = database.GetCollection(Documents.Experiments);
        Seeds = database.GetCollection(Documents.Seeds);
        Events = database.GetCollection(Documents.Events);
    }

    public LiteDatabase Database { get; }

    public Stream Data { get; }

    public Stream Log { get; }

    public ILiteCollection<BsonDocument> Experiments { get; }

    public ILiteCollection<BsonDocument> Seeds { get; }

    public ILiteCollection<BsonDocument> Events { get; }

    public IssuedKeys IssuedKeys { get; }

    public static LiteSession Open(IStorageMedium medium, string path, string logPath, ILogger logger)
    {
        Stream? data = null;
        Stream? log = null;
        try
        {
            var directory = Path.GetDirectoryName(path)!;
            var created = !medium.FileExists(path) || !medium.FileExists(logPath);
            medium.CreateDirectory(directory);
            data = medium.OpenExclusive(path);
            log = medium.OpenExclusive(logPath);
            if (created)
            {
                medium.SyncDirectory(directory);
            }

            var engine = new LiteEngine(new EngineSettings
            {
                DataStream = data,
                LogStream = log,
                Collation = Collation.Binary,
            });
            var database = new LiteDatabase(engine, disposeOnClose: true);
            try
            {
                CheckLayout(database);
            }
            catch
            {
                database.Dispose();
                throw;
            }

            return new LiteSession(database, data, log, path, logger);
        }
        catch
        {
            log?.Dispose();
            data?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The layout of the documents (see <see cref="Documents"/> and <see cref="LedgerDocuments"/>),
    /// kept in the file's user version. A new database gets it; a file with data in another layout
    /// is refused, unchanged.
    /// </summary>
    public const int Layout = 2;

    private static void CheckLayout(LiteDatabase database)
    {
        if (database.UserVersion == Layout)
        {
            return;
        }

        if (database.GetCollectionNames().Any())
        {
            throw new InvalidDataException(
                $"it holds data in storage layout {database.UserVersion}, and this seedd reads layout {Layout} (it was written by another version of seedd). It was left untouched; open it with the seedd that wrote it and export its experiments with 'seedctl export'.");
        }

        database.UserVersion = Layout;

        // Into the data file (fsynced at checkpoints) now: a crash must never leave data without its layout number.
        database.Checkpoint();
    }

    private readonly Dictionary<string, (BsonDocument Document, bool IsNew, bool Dirty)> _experimentsInBatch = new(StringComparer.Ordinal);

    /// <summary>
    /// An experiment's document as this transaction sees it, read once per group commit: the
    /// operations of a batch change it (chain head, frozen) in memory and it is written once, by
    /// <see cref="WriteExperiments"/>, just before the commit.
    /// </summary>
    public BsonDocument? Experiment(string experimentId)
    {
        if (_experimentsInBatch.TryGetValue(experimentId, out var cached))
        {
            return cached.Document;
        }

        var document = Experiments.FindById(experimentId);
        if (document is not null)
        {
            _experimentsInBatch[experimentId] = (document, false, false);
        }

        return document;
    }

    public void AddExperiment(BsonDocument document) => _experimentsInBatch[document["_id"].AsString] = (document, true, true);

    public void ExperimentChanged(string experimentId)
    {
        var cached = _experimentsInBatch[experimentId];
        _experimentsInBatch[experimentId] = (cached.Document, cached.IsNew, true);
    }

    /// <summary>Writes the experiments the batch changed; the writer calls it before committing.</summary>
    public void WriteExperiments()
    {
        foreach (var (document, isNew, dirty) in _experimentsInBatch.Values)
        {
            if (isNew)
            {
                Experiments.Insert(document);
            }
            else if (dirty)
            {
                Experiments.Update(document);
            }
        }

        _experimentsInBatch.Clear();
    }

    /// <summary>Forgets what a rolled-back batch did to experiments.</summary>
    public void DiscardBatch() => _experimentsInBatch.Clear();

    /// <summary>Makes what the last commit wrote durable (fsync of the log).</summary>
    public void Flush() => Log.Flush();

    /// <summary>Drops a session whose engine failed, without letting its leftovers crash the process later.</summary>
    public void Abandon()
    {
        IssuedKeys.Dispose();
        LiteDbQuirks.DefuseFailedTransactions(Database);
        try
        {
            Database.Dispose();
        }
        catch (Exception)
        {
            // The engine is already closed by the failure that brought us here.
        }

        Log.Dispose();
        Data.Dispose();
    }

    public void Dispose()
    {
        try
        {
            IssuedKeys.Dispose();
            Database.Dispose();
        }
        finally
        {
            Log.Dispose();
            Data.Dispose();
        }
    }
}
