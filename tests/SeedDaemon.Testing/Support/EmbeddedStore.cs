extern alias daemon;

using Microsoft.Extensions.Logging.Abstractions;
using daemon::SeedDaemon.Daemon.Recording;
using daemon::SeedDaemon.Daemon.Storage;
using daemon::SeedDaemon.Daemon.Storage.LiteDb;

namespace SeedDaemon.Testing;

/// <summary>The embedded store as the daemon builds it (the shared core over the LiteDB backend), for tests that drive it directly.</summary>
internal static class EmbeddedStore
{
    public static SeedStore Open(string path, IStorageMedium? medium = null, int maxBatch = 64, LiteDbCheckpoints? checkpoints = null) =>
        new(LiteDbBackend.Open(path, NullLogger.Instance, medium, checkpoints), maxBatch, NullLogger.Instance);
}
