namespace SeedDaemon.Daemon.Storage;

/// <summary>
/// Where the store keeps its files. The file system in production; a simulated disk in the tests
/// that cut the power or fill the disk. The contract every medium keeps: <see cref="Stream.Flush()"/>
/// on an opened stream returns only once everything written to it is on stable storage.
/// </summary>
internal interface IStorageMedium
{
    bool FileExists(string path);

    bool DirectoryExists(string path);

    long FileLength(string path);

    /// <summary>Opens (creating if missing) a file for exclusive read/write; fails if another process holds it.</summary>
    Stream OpenExclusive(string path);

    /// <summary>Creates a file that must not exist yet (a backup's copy); fails if it exists.</summary>
    Stream CreateNew(string path);

    /// <summary>Renames a closed file within its directory; fails if <paramref name="to"/> exists.</summary>
    void Rename(string from, string to);

    void CreateDirectory(string path);

    /// <summary>Removes a file (closed) if it exists: what a refused start had created.</summary>
    void DeleteFile(string path);

    /// <summary>Makes the directory's entries (a newly created file) durable.</summary>
    void SyncDirectory(string path);

    /// <summary>An existing directory's path with every symbolic link in it resolved: two paths name the same directory when these are equal.</summary>
    string ResolveDirectory(string path);
}
