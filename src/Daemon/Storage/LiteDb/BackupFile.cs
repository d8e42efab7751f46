using System.Globalization;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The file a backup writes: NAME.partial while it is written, renamed to NAME once it is whole and
/// fsynced. What fails here is the target's failure, never the seed database's: the error names the
/// target (RESOURCE_EXHAUSTED for a full disk, FAILED_PRECONDITION for a place seedd cannot write),
/// the partial copy is removed, and the database stays open.
/// </summary>
internal sealed class BackupFile : IDisposable
{
    private readonly IStorageMedium _medium;
    private readonly string _target;
    private readonly string _partial;
    private readonly long _size;
    private Stream? _stream;
    private bool _renamed;
    private bool _done;

    private BackupFile(IStorageMedium medium, string target, long size, Stream stream)
    {
        _medium = medium;
        _size = size;
        _target = target;
        _partial = PartialPath(target);
        _stream = stream;
    }

    private static string PartialPath(string target) => target + ".partial";

    /// <summary>Creates NAME.partial for a copy of <paramref name="size"/> bytes; refused, it creates nothing.</summary>
    public static BackupFile Create(IStorageMedium medium, string target, long size)
    {
        var partial = PartialPath(target);
        if (medium.FileExists(partial))
        {
            throw new SeedDaemonException(ErrorKind.AlreadyExists, $"{partial} already exists (a backup that did not finish, or a file of yours); remove it or choose another file name.");
        }

        try
        {
            return new BackupFile(medium, target, size, medium.CreateNew(partial));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw Failed(target, error, size, removed: false);
        }
    }

    public void Write(byte[] buffer, int count) => Run(() => _stream!.Write(buffer, 0, count));

    /// <summary>fsyncs the copy, renames it to its name and makes the new name durable.</summary>
    public void Complete()
    {
        Run(
            () =>
            {
                _stream!.Flush();
                _stream.Dispose();
                _stream = null;
                _medium.Rename(_partial, _target);
                _renamed = true;
                _medium.SyncDirectory(Path.GetDirectoryName(_target)!);
            });
        _done = true;
    }

    /// <summary>Not completed: what was written is closed and removed.</summary>
    public void Dispose()
    {
        if (_done)
        {
            return;
        }

        _done = true;
        _stream?.Dispose();
        _stream = null;
        _medium.DeleteFile(_renamed ? _target : _partial);
    }

    private static SeedDaemonException Failed(string target, Exception error, long size, bool removed)
    {
        var cleanup = removed ? "; the partial copy was removed" : "";
        return error is IOException io && StorageErrors.IsDiskFull(io)
            ? new SeedDaemonException(ErrorKind.ResourceExhausted, string.Create(CultureInfo.InvariantCulture, $"The disk of backup target {target} is full: the copy needs {size:N0} bytes{cleanup}. The seed database is unaffected; free space there or choose another disk."))
            : new SeedDaemonException(ErrorKind.FailedPrecondition, $"seedd cannot write backup target {target} ({error.Message}){cleanup}. The seed database is unaffected; choose a place the daemon's user may write.");
    }

    private void Run(Action write)
    {
        try
        {
            write();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            var removed = true;
            try
            {
                Dispose();
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                removed = false;
            }

            throw Failed(_target, error, _size, removed);
        }
    }
}
