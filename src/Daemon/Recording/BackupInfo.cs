namespace SeedDaemon.Daemon.Recording;

/// <summary>A finished backup: a complete LiteDB file that seedd can open as its database.</summary>
internal sealed record BackupInfo(string Path, long Bytes, long Experiments, long Seeds, DateTime CompletedTime);
