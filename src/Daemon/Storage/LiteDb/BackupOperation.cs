using SeedDaemon.Daemon.Issuance;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// An online, consistent copy of the database. The writer runs it alone, between two group
/// commits: it checkpoints (so the data file holds every commit and the log is empty), copies the
/// data file to a new file, and fsyncs the copy. Reads go on meanwhile; writes wait.
/// </summary>
internal sealed class BackupOperation(string targetPath) : WriteOperation<BackupInfo>
{
    public override bool RunsAlone => true;

    protected override BackupInfo Run(LiteSession session)
    {
        var target = Path.GetFullPath(targetPath);
        if (File.Exists(target) || Directory.Exists(target))
        {
            throw new SeedDaemonException(ErrorKind.AlreadyExists, $"backup target {target} already exists; choose a new file name.", "path");
        }

        var directory = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(directory))
        {
            throw new SeedDaemonException(ErrorKind.FailedPrecondition, $"backup directory {directory} does not exist on the daemon's host.");
        }

        session.Database.Checkpoint();
        var experiments = session.Experiments.LongCount();
        var seeds = session.Seeds.LongCount();
        var temporary = target + ".partial";
        long bytes;
        using (var copy = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            bytes = CopyDataFile(session.Data, copy);
            copy.Flush(flushToDisk: true);
        }

        File.Move(temporary, target);
        FileSystemMedium.Instance.SyncDirectory(directory);
        return new BackupInfo(target, bytes, experiments, seeds, DateTime.UtcNow);
    }

    /// <summary>The data file after a checkpoint, with the writer held: complete and still.</summary>
    private static long CopyDataFile(Stream data, Stream destination)
    {
        // LiteDB's readers position this stream under a lock on the stream itself; so do we.
        lock (data)
        {
            data.Position = 0;
            data.CopyTo(destination);
            return data.Length;
        }
    }
}
