namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>The database could not be opened; the message names the file and the reason. Nothing was changed.</summary>
public sealed class StoreOpenException(string path, string reason, Exception? inner = null)
    : Exception($"cannot open seed database '{path}': {reason}", inner);
