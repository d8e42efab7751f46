using LiteDB;
using LiteDB.Engine;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// One open LiteDB database over its data and log streams. LiteDB closes its engine for good after
/// an I/O error, so the backend abandons a failed session and opens a new one. The log file is
/// created only when LiteDB first writes to it, so opening a file that is then refused creates
/// nothing beside it.
/// </summary>
internal sealed class LiteSession : IDisposable
{
    /// <summary>
    /// The layout of the documents (<see cref="Documents"/>, <see cref="LedgerDocuments"/>,
    /// <see cref="KeyChunkDocuments"/>, <see cref="FingerprintBlocks"/>), kept in the file's user version.
    /// </summary>
    public const int Layout = 6;

    private readonly GatedDataStream _gate;

    private LiteSession(LiteDatabase database, GatedDataStream data, Stream log)
    {
        Database = database;
        Data = data;
        _gate = data;
        Log = log;
        Experiments = database.GetCollection(Documents.Experiments);
        Events = database.GetCollection(Documents.Events);
        Keys = database.GetCollection(Documents.Keys);
        Processes = database.GetCollection(RunDocuments.Processes);
        Fingerprints = database.GetCollection(FingerprintBlocks.Collection);
        TreeNodes = database.GetCollection(TreeNodeDocuments.Collection);
    }

    public LiteDatabase Database { get; }

    public Stream Data { get; }

    public Stream Log { get; }

    public ILiteCollection<BsonDocument> Experiments { get; }

    public ILiteCollection<BsonDocument> Events { get; }

    public ILiteCollection<BsonDocument> Keys { get; }

    public ILiteCollection<BsonDocument> Processes { get; }

    public ILiteCollection<BsonDocument> Fingerprints { get; }

    public ILiteCollection<BsonDocument> TreeNodes { get; }

    /// <summary>Opens the database; <paramref name="created"/> says whether this call created its data file.</summary>
    public static LiteSession Open(IStorageMedium medium, string path, string logPath, Action<int> migrating, out bool created)
    {
        GatedDataStream? data = null;
        Stream? log = null;
        var directory = Path.GetDirectoryName(path)!;
        created = !medium.FileExists(path);

        // An empty data file (a crash before the first checkpoint of a new database) is created afresh, as LiteDB does.
        var fresh = created || medium.FileLength(path) == 0;
        try
        {
            if (created)
            {
                medium.CreateDirectory(directory);
            }

            log = medium.FileExists(logPath) ? medium.OpenExclusive(logPath) : null;

            // LiteDB may write the data file only when seedd lets it, and reads its header as the log has it: see GatedDataStream.
            data = new GatedDataStream(medium.OpenExclusive(path), open: fresh, log is null || fresh ? null : LiteDbHeaders.LastConfirmedLogHeader(log));
            if (created)
            {
                medium.SyncDirectory(directory);
            }

            log ??= new DeferredFileStream(() =>
            {
                var file = medium.OpenExclusive(logPath);
                medium.SyncDirectory(directory);
                return file;
            });
            var engine = new LiteEngine(new EngineSettings
            {
                DataStream = data,
                LogStream = log,
                Collation = Collation.Binary,
            });
            var session = new LiteSession(new LiteDatabase(engine, disposeOnClose: true), data, log);
            try
            {
                session.CheckLayout(migrating);
                if (fresh)
                {
                    data.CloseAfterCreation();
                }
            }
            catch
            {
                session.Abandon();
                throw;
            }

            return session;
        }
        catch
        {
            log?.Dispose();
            data?.Dispose();
            if (created)
            {
                DeleteCreated(medium, path, logPath);
            }

            throw;
        }
    }

    /// <summary>A database a refused start created (closed by now): nothing of it stays behind.</summary>
    public static void DeleteCreated(IStorageMedium medium, string path, string logPath)
    {
        medium.DeleteFile(path);
        medium.DeleteFile(logPath);
    }

    /// <summary>Documents of a collection with ids from <paramref name="lower"/> to <paramref name="upper"/>, in id order.</summary>
    public static IEnumerable<BsonDocument> Range(ILiteCollection<BsonDocument> collection, string lower, string upper, int limit = int.MaxValue) =>
        InOrder(
            collection.Query()
                .Where("_id BETWEEN @0 AND @1", lower, upper)
                .OrderBy("_id")
                .Limit(limit)
                .ToEnumerable(),
            collection.Name,
            lower,
            upper);

    /// <summary>Every document of a collection, in id order, checked as <see cref="InOrder"/> does (one an index gives twice is damage).</summary>
    public static IEnumerable<BsonDocument> All(ILiteCollection<BsonDocument> collection) =>
        InOrder(collection.FindAll(), collection.Name, "", "\uffff");

    /// <summary>
    /// Documents an index range gave, checked to be in the range and in strictly increasing id order:
    /// a damaged index page that points elsewhere is found here, not served.
    /// </summary>
    public static IEnumerable<BsonDocument> InOrder(IEnumerable<BsonDocument> documents, string collection, string lower, string upper)
    {
        string? previous = null;
        foreach (var document in documents)
        {
            var id = document.TryGetValue("_id", out var value) && value.IsString ? value.AsString : null;
            if (id is null || string.CompareOrdinal(id, lower) < 0 || string.CompareOrdinal(id, upper) > 0
                || (previous is not null && string.CompareOrdinal(id, previous) <= 0))
            {
                throw DocumentSeal.Damaged(collection, id ?? "(no readable id)", $"its index gave it out of place in the ids from '{lower}' to '{upper}'");
            }

            previous = id;
            yield return document;
        }
    }

    /// <summary>An experiment's ledger documents from the one holding <paramref name="sequence"/> on, in chain order.</summary>
    public IEnumerable<BsonDocument> EventsFrom(string experimentId, ulong sequence)
    {
        var wanted = Documents.Id(experimentId, sequence);
        var holding = Events.Query()
            .Where("_id BETWEEN @0 AND @1", Documents.KeyLowerBound(experimentId), wanted)
            .OrderByDescending("_id")
            .Select("_id")
            .Limit(1)
            .FirstOrDefault();
        return Range(Events, holding?["_id"].AsString ?? wanted, Documents.KeyUpperBound(experimentId));
    }

    /// <summary>
    /// The fingerprint a process recorded at a step at or below its <paramref name="lastStep"/>, as
    /// committed; null when it recorded none there. A step without a block is told apart from a block
    /// the file lost by the blocks' links, walked back from the last step: the first block after the
    /// step must link to a step before it (else the block that held the step is missing: damage).
    /// </summary>
    public StepFingerprint? FindFingerprint(ProcessKey key, long step, long lastStep)
    {
        if (FindBlock(key, FingerprintBlocks.Of(step)) is { } found)
        {
            return found.Steps.Find(s => s.Step == step);
        }

        for (var at = lastStep; at >= step;)
        {
            var holding = FindBlock(key, FingerprintBlocks.Of(at))
                ?? throw DocumentSeal.Damaged(FingerprintBlocks.Collection, FingerprintBlocks.Id(key, FingerprintBlocks.Of(at)), $"it is missing, and holds step {at} of the process");
            if (holding.PreviousStep >= holding.Steps[0].Step)
            {
                throw DocumentSeal.Damaged(FingerprintBlocks.Collection, holding.Id, $"it links to step {holding.PreviousStep}, not to one before its own");
            }

            at = holding.PreviousStep;
        }

        return null;
    }

    /// <summary>A process's block of steps, as committed; null when it has none there.</summary>
    public FingerprintBlocks.Block? FindBlock(ProcessKey key, long block)
    {
        var id = FingerprintBlocks.Id(key, block);
        if (Fingerprints.FindById(id) is not { } document)
        {
            return null;
        }

        // A damaged index entry may lead to another (whole) document.
        var found = FingerprintBlocks.ToBlock(document);
        return found.Id == id ? found
            : throw DocumentSeal.Damaged(FingerprintBlocks.Collection, id, $"its index entry leads to document '{document["_id"].AsString}'");
    }

    /// <summary>Makes what the last commit wrote durable (fsync of the log).</summary>
    public void Flush() => Log.Flush();

    /// <summary>
    /// LiteDB's checkpoint: its log copied into the data file, the data file fsynced, the log emptied.
    /// LiteDB's commits do not fsync the log, and its checkpoint writes the data file in place, so the
    /// log is made durable first: a power cut during the copy then leaves a whole log to replay over a
    /// torn data file, never a torn log over a data file already changed.
    /// </summary>
    public void Checkpoint()
    {
        Flush();
        using (_gate.AllowWrites())
        {
            Database.Checkpoint();
        }
    }

    /// <summary>
    /// Drops a session that failed or was refused, writing nothing more: the streams close first, so
    /// whatever LiteDB still tries to write on its way out goes nowhere; and its failed transactions
    /// cannot crash the process later from the finalizer thread.
    /// </summary>
    public void Abandon()
    {
        Log.Dispose();
        Data.Dispose();
        LiteDbQuirks.DefuseFailedTransactions(Database);
        try
        {
            Database.Dispose();
        }
        catch (Exception)
        {
            // Its streams are closed: there is nothing it could still do.
        }
    }

    /// <summary>Closes cleanly: LiteDB checkpoints its log into the data file (fsynced) first.</summary>
    public void Dispose()
    {
        try
        {
            using (_gate.AllowWrites())
            {
                Database.Dispose();
            }
        }
        finally
        {
            Log.Dispose();
            Data.Dispose();
        }
    }

    /// <summary>A new database gets the current layout; a file in layout 2, 3 or 4 is migrated; any other is refused, unchanged.</summary>
    private void CheckLayout(Action<int> migrating)
    {
        var version = Database.UserVersion;
        var holdsData = version != Layout && Database.GetCollectionNames().Any();
        if (holdsData && !LayoutMigration.Migrates(version))
        {
            throw new InvalidDataException(
                $"it holds data in storage layout {version}, and this seedd reads layout {Layout} (and migrates layouts 2 to 5); it was written by another version of seedd. It was left untouched; open it with the seedd that wrote it and export its experiments with 'seedctl export'.");
        }

        // A file to migrate is read through first: one refused for what it holds is left as it was.
        if (holdsData && version != Layout)
        {
            LayoutMigration.Check(this);
        }

        // Accepted, so it may be written. LiteDB would copy its log into the data file inside whichever
        // commit crosses 1,000 pages: on the request path, or inside the migration's commit with the
        // log not yet fsynced. The backend does it itself (see Checkpoint), when idle.
        if (Database.CheckpointSize != 0)
        {
            Database.CheckpointSize = 0;
        }

        if (version == Layout)
        {
            return;
        }

        if (holdsData)
        {
            migrating(version);
            LayoutMigration.Run(this, version);
            return;
        }

        Database.UserVersion = Layout;

        // Into the data file (fsynced at checkpoints) now: a crash must never leave data without its layout number.
        Checkpoint();
    }
}
