using Microsoft.Extensions.Options;
using SeedDaemon.Daemon.Operations;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Daemon.Storage;
using SeedDaemon.Daemon.Storage.LiteDb;
using SeedDaemon.Daemon.Storage.Postgres;

namespace SeedDaemon.Daemon.Hosting;

/// <summary>The one place that picks the backend: PostgreSQL when a connection string is configured, else the embedded LiteDB file.</summary>
internal static class StoreFactory
{
    public static ISeedStore Open(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<SeeddOptions>>().Value;
        var loggers = services.GetRequiredService<ILoggerFactory>();
        IStoreBackend backend = options.UsesPostgres
            ? PostgresBackend.Open(options.Postgres.ConnectionString!, services.GetRequiredService<Transparency.LedgerKeyFile>().Signer.VerifierKey, loggers.CreateLogger<PostgresBackend>(), services.GetRequiredService<Metrics>())
            : LiteDbBackend.Open(options.Database!, loggers.CreateLogger<LiteDbBackend>(), services.GetService<IStorageMedium>());
        return new SeedStore(backend, options.GroupCommitMaxOperations, loggers.CreateLogger<SeedStore>(), services.GetRequiredService<Metrics>());
    }
}
