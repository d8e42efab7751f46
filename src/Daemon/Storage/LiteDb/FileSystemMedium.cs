using System.Runtime.InteropServices;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>The real file system, with fsync on flush and an exclusive lock per open file.</summary>
internal sealed partial class FileSystemMedium : IStorageMedium
{
    public static FileSystemMedium Instance { get; } = new();

    public bool FileExists(string path) => File.Exists(path);

    public bool DirectoryExists(string path) => Directory.Exists(path);

    public long FileLength(string path) => new FileInfo(path).Length;

    public Stream OpenExclusive(string path) => new SyncedFileStream(path);

    public Stream CreateNew(string path) => new SyncedFileStream(path, FileMode.CreateNew);

    public void Rename(string from, string to) => File.Move(from, to, overwrite: false);

    public void CreateDirectory(string path) => Directory.CreateDirectory(path);

    public void DeleteFile(string path) => File.Delete(path);

    public void SyncDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY on Linux
        var fd = open(path, ReadOnlyDirectory);
        if (fd < 0)
        {
            throw new IOException($"cannot open directory {path} to sync it: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            if (fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory {path} failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    public string ResolveDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return Path.GetFullPath(path);
        }

        var resolved = realpath(path, 0);
        if (resolved == 0)
        {
            throw new IOException($"cannot resolve directory {path}: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved)!;
        }
        finally
        {
            free(resolved);
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport("libc")]
    private static partial void free(nint pointer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
