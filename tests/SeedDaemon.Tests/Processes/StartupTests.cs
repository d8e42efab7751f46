using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using SeedDaemon.Daemon.Hosting;

namespace SeedDaemon.Tests.Processes;

/// <summary>seedd refuses to start with a message that says why, and an exit code that says which part failed.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task A_taken_port_exits_with_ListenFailed_naming_the_address()
    {
        using var folder = new TempFolder();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", $"127.0.0.1:{port}", "--db", folder.File("seeds.db"));
        Assert.Equal(ExitCodes.ListenFailed, code);
        Assert.Contains($"cannot listen on 127.0.0.1:{port}", output, StringComparison.Ordinal);
        Assert.Contains("in use", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_database_in_use_by_another_seedd_exits_with_DatabaseUnavailable()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await using var first = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);

        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--db", db);
        Assert.Equal(ExitCodes.DatabaseUnavailable, code);
        Assert.Contains(db, output, StringComparison.Ordinal);
        Assert.Contains("locked by another process", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(16384)]
    [InlineData(10000)]
    public async Task A_file_that_is_not_a_database_is_refused_and_left_untouched(int length)
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await File.WriteAllBytesAsync(db, RandomNumberGenerator.GetBytes(length));
        var before = SHA256.HashData(await File.ReadAllBytesAsync(db));

        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--db", db);
        Assert.Equal(ExitCodes.DatabaseUnavailable, code);
        Assert.Contains($"cannot open seed database '{db}'", output, StringComparison.Ordinal);
        Assert.Equal(before, SHA256.HashData(await File.ReadAllBytesAsync(db)));
    }

    [Fact]
    public async Task A_database_path_that_is_a_directory_is_refused()
    {
        using var folder = new TempFolder();
        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--db", folder.Path);
        Assert.Equal(ExitCodes.DatabaseUnavailable, code);
        Assert.Contains("directory", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--listen", "nowhere")]
    [InlineData("--listen", "127.0.0.1:99999")]
    [InlineData("--bogus", "1")]
    public async Task Bad_arguments_exit_with_InvalidConfiguration(string flag, string value)
    {
        using var folder = new TempFolder();
        var (code, output) = await SeeddProcess.RunToExitAsync(flag, value, "--db", folder.File("seeds.db"));
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains(flag == "--bogus" ? "unknown argument" : "Seedd:Listen", output, StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("seeds.db")), "a refused start must not create the database");
    }

    [Fact]
    public async Task Help_prints_usage()
    {
        var (code, output) = await SeeddProcess.RunToExitAsync("--help");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("Usage: seedd", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_environment_configures_the_listener()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await using var seedd = await SeeddProcess.StartAsync(new Dictionary<string, string?> { ["Seedd__Database"] = db }, "--listen", "127.0.0.1:0");
        Assert.Contains(db, seedd.Output, StringComparison.Ordinal);
    }
}
