using LiteDB;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>What the embedded backend checks, and says, when a database file cannot be opened as it is.</summary>
internal static class OpenChecks
{
    /// <summary>
    /// Refuses what LiteDB would otherwise misread: a data file that is not a whole number of pages
    /// with no log beside it (LiteDB reads only its whole pages), or an empty or missing data file next
    /// to a non-empty log (LiteDB would start a fresh database). A torn tail is normal for the log
    /// after a crash; for the data file only when the crash cut a checkpoint short, and then every
    /// page the checkpoint was writing is still in the log (fsynced before each checkpoint, see
    /// <see cref="LiteSession.Checkpoint"/>), which LiteDB reads over the data file.
    /// </summary>
    public static void BeforeOpen(IStorageMedium medium, string path, string logPath)
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
        if (length % LiteDbBackend.PageSize != 0 && !logHasData)
        {
            throw new StoreOpenException(path, $"the file is {length} bytes, not a whole number of {LiteDbBackend.PageSize}-byte pages: it is damaged or not a LiteDB database. It was left untouched; restore it from a backup.");
        }

        if (length == 0 && logHasData)
        {
            throw new StoreOpenException(path, "the database file is empty but its log is not: it was truncated. It was left untouched; restore it from a backup.");
        }

        if (length >= LiteDbBackend.PageSize)
        {
            try
            {
                CheckHeaders(medium, path, logPath, logHasData);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // Another seedd holding it, or no permission: said as LiteDB's open would have said it.
                throw new StoreOpenException(path, Describe(error), error);
            }
        }
    }

    /// <summary>
    /// Refuses a file LiteDB marked invalid (seedd never lets LiteDB rebuild a file: a rebuild keeps
    /// what it can read and drops the rest), and a log that belongs to another database: a copy of the
    /// header page in it with another creation time (LiteDB would read the other database's pages
    /// over this one's). A log whose commits never changed the header page holds no copy to compare.
    /// </summary>
    private static void CheckHeaders(IStorageMedium medium, string path, string logPath, bool logHasData)
    {
        ulong created;
        using (var data = medium.OpenExclusive(path))
        {
            (created, var invalid) = LiteDbHeaders.ReadDataHeader(data);
            if (invalid)
            {
                throw new StoreOpenException(path, "LiteDB marked it damaged (the \"invalid datafile state\" flag in its header, set when a read of it failed, by seedd before 1.3 or another LiteDB tool). seedd does not let LiteDB rebuild it, which would drop whatever it cannot read. It was left untouched; restore it from a backup.");
            }
        }

        if (!logHasData)
        {
            return;
        }

        using var log = medium.OpenExclusive(logPath);
        foreach (var (page, creation, _) in LiteDbHeaders.LogHeaderCopies(log))
        {
            if (creation != created)
            {
                throw new StoreOpenException(path, $"its log {logPath} belongs to another database (page {page} of the log is a header of a database created at another time): a log copied or restored next to the wrong file. Both were left untouched; put the database's own log beside it, or restore both from a backup.");
            }
        }
    }

    /// <summary>Why opening failed, in a user's words, saying that the file was left as it was.</summary>
    public static string Describe(Exception error) => error switch
    {
        UnauthorizedAccessException => $"permission denied ({error.Message}).",
        IOException io when io.Message.Contains("being used by another process", StringComparison.OrdinalIgnoreCase)
            => "it is locked by another process (is another seedd running on it?).",
        IOException io => io.Message,
        LiteException { ErrorCode: LiteException.INVALID_DATABASE } => "it is not a LiteDB database or its header is damaged. It was left untouched; restore it from a backup.",
        InvalidDataException when error.Message.StartsWith("it holds data in storage layout", StringComparison.Ordinal) => error.Message,
        InvalidDataException => $"the file is damaged: {error.Message.TrimEnd('.')}. It and its log were left untouched; restore it from a backup.",
        _ => $"the file is damaged: its pages cannot be read back as seedd wrote them (LiteDB: {error.Message}). It and its log were left untouched; restore it from a backup.",
    };
}
