extern alias daemon;

using Microsoft.Extensions.DependencyInjection;
using daemon::SeedDaemon.Daemon.Hosting;
using daemon::SeedDaemon.Daemon.Storage;

namespace SeedDaemon.Testing;

/// <summary>
/// seedd started in this process (real Kestrel, 127.0.0.1, port 0) over one database, a real file or
/// a path on a <see cref="SimulatedDisk"/>, logging only what is critical: for a test that needs a
/// daemon of its own.
/// </summary>
internal static class QuietSeedd
{
    public static Task<RunningSeedd> StartAsync(string database, IStorageMedium? medium = null) => SeeddApp.StartAsync(
        new Dictionary<string, string?>
        {
            ["Seedd:Listen"] = "127.0.0.1:0",
            ["Seedd:Database"] = database,
            ["Logging:LogLevel:Default"] = "Critical",
        },
        medium is null ? null : builder => builder.Services.AddSingleton(medium));
}
