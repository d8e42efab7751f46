namespace SeedDaemon.Daemon.Recording;

/// <summary>The store could not be opened; the message names the database and the reason. Nothing was changed.</summary>
internal sealed class StoreOpenException(string location, string reason, Exception? inner = null)
    : Exception($"cannot open seed database '{location}': {reason}", inner);
