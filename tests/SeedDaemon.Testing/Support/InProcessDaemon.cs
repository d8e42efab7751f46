extern alias daemon;

using Grpc.Net.Client;
using daemon::SeedDaemon.Daemon.Hosting;
using SeedDaemon.V1;

namespace SeedDaemon.Testing;

/// <summary>
/// seedd started in this process on real Kestrel (127.0.0.1, port 0) over its own temporary
/// database, with a real HTTP/2 channel to it.
/// </summary>
public class InProcessDaemon : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private RunningSeedd? _running;

    public string Address { get; private set; } = "";

    /// <summary>Every listener's address: gRPC first, then the HTTP/1.1 one when configured.</summary>
    public IReadOnlyList<string> Addresses => _running?.Addresses ?? [];

    public string DatabasePath => _folder.File("seeds.db");

    public GrpcChannel Channel { get; private set; } = null!;

    public SeedService.SeedServiceClient Seeds { get; private set; } = null!;

    public AuditService.AuditServiceClient Audit { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Seedd:Listen"] = "127.0.0.1:0",
            ["Seedd:Database"] = DatabasePath,
            // Above LiteDB's 1,024 events a ledger document, so one request can span documents.
            ["Seedd:MaxBatchKeys"] = "2500",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        await ConfigureAsync(settings, _folder);
        _running = await SeeddApp.StartAsync(settings);
        Address = _running.Addresses[0];
        Channel = CreateChannel(Address);
        Seeds = new SeedService.SeedServiceClient(Channel);
        Audit = new AuditService.AuditServiceClient(Channel);
    }

    /// <summary>More settings for a daemon of a particular kind (tokens, TLS, ...).</summary>
    protected virtual void Configure(Dictionary<string, string?> settings, TempFolder folder)
    {
    }

    /// <summary>Settings that need work first (a database of its own on a PostgreSQL server).</summary>
    protected virtual Task ConfigureAsync(Dictionary<string, string?> settings, TempFolder folder)
    {
        Configure(settings, folder);
        return Task.CompletedTask;
    }

    protected virtual GrpcChannel CreateChannel(string address) => TestChannels.Create(address);

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (_running is not null)
        {
            await _running.DisposeAsync();
        }

        _folder.Dispose();
    }
}
