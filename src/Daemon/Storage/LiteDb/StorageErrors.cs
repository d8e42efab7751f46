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
        _ => error,
    };

    public static bool IsDiskFull(IOException error)
    {
        var code = error.HResult & 0xFFFF;
        return code is EnospcErrno or WindowsDiskFull
            || error.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
    }
}
