namespace SeedDaemon.Testing;

/// <summary>A daemon for the behavioural suite that runs against every backend: gRPC and the HTTP/1.1 listener (REST, /metrics).</summary>
public abstract class ConformanceDaemon : InProcessDaemon
{
    public string RestAddress => Addresses[1];

    /// <summary>The backend's name, for messages.</summary>
    public abstract string Backend { get; }

    protected override void Configure(Dictionary<string, string?> settings, TempFolder folder) => settings["Seedd:HttpListen"] = "127.0.0.1:0";
}

/// <summary>The embedded backend: a LiteDB file in the test's own folder.</summary>
public sealed class EmbeddedDaemon : ConformanceDaemon
{
    public override string Backend => "LiteDB";
}

/// <summary>The replicated backend: a database of its own on the test run's PostgreSQL server.</summary>
public sealed class PostgresDaemon : ConformanceDaemon
{
    public override string Backend => "PostgreSQL";

    protected override async Task ConfigureAsync(Dictionary<string, string?> settings, TempFolder folder)
    {
        Configure(settings, folder);
        var cluster = await PostgresCluster.SharedAsync();
        settings.Remove("Seedd:Database");
        settings["Seedd:Ledger:KeyFile"] = TestLedgerKey.Path;
        settings["Seedd:Postgres:ConnectionString"] = cluster.ConnectionString(await cluster.CreateDatabaseAsync());
    }
}
