using LiteDB;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>Turns storage-engine failures into errors a client can act on (retry later, free space).</summary>
internal static class StorageErrors
{
    private const int EnospcErrno = 28;
    private const int WindowsDiskFull = 112;

    public static Exception Translate(Exception error) => error switch
    {
        SeedDaemonException => error,
        IOException io when IsDiskFull(io) => new SeedDaemonException(ErrorKind.ResourceExhausted, "The seed database's disk is full; nothing was recorded and no seed was issued. Free space and retry.", null),
        IOException io => new SeedDaemonException(ErrorKind.Unavailable, $"The seed database could not be written ({io.Message}); nothing was recorded and no seed was issued. Retry later.", null),
        ObjectDisposedException => new SeedDaemonException(ErrorKind.Unavailable, "The seed database is being reopened; retry.", null),
        LiteException { ErrorCode: LiteException.LOCK_TIMEOUT } => new SeedDaemonException(ErrorKind.Unavailable, "The seed database is busy; retry.", null),
        LiteException lite => new SeedDaemonException(ErrorKind.Unavailable, $"The seed database failed ({lite.Message}); nothing was recorded and no seed was issued. Retry later.", null),
        InvalidDataException damaged => Damaged("the database while reopening it", damaged),
        _ => error,
    };

    /// <summary>
    /// A failure while a reader read stored documents. Anything but the store being busy, closed or
    /// unreadable (I/O) means what was read is not what seedd wrote: DATA_LOSS, naming what was read.
    /// </summary>
    public static Exception TranslateRead(Exception error, string what) => error switch
    {
        SeedDaemonException or OperationCanceledException => error,
        IOException or ObjectDisposedException => Translate(error),
        LiteException { ErrorCode: LiteException.LOCK_TIMEOUT or LiteException.DATABASE_SHUTDOWN } => Translate(error),
        _ => Damaged(what, error),
    };

    public static SeedDaemonException Damaged(string what, Exception error) => new(
        ErrorKind.DataLoss,
        $"The seed database is damaged where seedd read {what}: {error.Message.TrimEnd('.')}. Nothing was answered from it and nothing was changed; 'seedctl store check' lists all damage; restore the database from a backup.");

    public static bool IsDiskFull(IOException error)
    {
        var code = error.HResult & 0xFFFF;
        return code is EnospcErrno or WindowsDiskFull
            || error.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
    }
}
