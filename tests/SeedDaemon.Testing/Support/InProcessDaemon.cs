using Grpc.Net.Client;
using SeedDaemon.Daemon.Hosting;
using SeedDaemon.V1;

namespace SeedDaemon.Testing;

/// <summary>
/// seedd started in this process on real Kestrel (127.0.0.1, port 0) over its own temporary
/// database, with a real HTTP/2 channel to it.
/// </summary>
public sealed class InProcessDaemon : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private RunningSeedd? _running;

    public string Address { get; private set; } = "";

    public string DatabasePath => _folder.File("seeds.db");

    public GrpcChannel Channel { get; private set; } = null!;

    public SeedService.SeedServiceClient Seeds { get; private set; } = null!;

    public AuditService.AuditServiceClient Audit { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _running = await SeeddApp.StartAsync(new Dictionary<string, string?>
        {
            ["Seedd:Listen"] = "127.0.0.1:0",
            ["Seedd:Database"] = DatabasePath,
            ["Seedd:MaxBatchKeys"] = "1000",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        Address = _running.Addresses[0];
        Channel = GrpcChannel.ForAddress(Address);
        Seeds = new SeedService.SeedServiceClient(Channel);
        Audit = new AuditService.AuditServiceClient(Channel);
    }

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
