extern alias daemon;

using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using daemon::SeedDaemon.Daemon.Hosting;
using SeedDaemon.V1;

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
    public async Task A_taken_port_creates_no_database_and_leaves_an_existing_one_byte_for_byte()
    {
        using var folder = new TempFolder();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        // A new database: nothing may appear in its folder, and the store is not even opened (the
        // listeners are checked first; deleting what an open created is only the fallback for a
        // port taken between that check and the bind).
        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", $"127.0.0.1:{port}", "--db", folder.File("new.db"));
        Assert.Equal(ExitCodes.ListenFailed, code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
        Assert.DoesNotContain("Opened seed database", output, StringComparison.Ordinal);

        // An existing database (written and closed by seedd): every file byte for byte as it was.
        var db = folder.File("seeds.db");
        await WriteDatabaseAsync(db);
        var before = DirectorySnapshot.Take(folder.Path);
        (code, output) = await SeeddProcess.RunToExitAsync("--listen", $"127.0.0.1:{port}", "--db", db);
        Assert.Equal(ExitCodes.ListenFailed, code);
        Assert.DoesNotContain("Opened seed database", output, StringComparison.Ordinal);
        before.AssertUnchanged(folder.Path, "a start refused for a taken port");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Data_damaged_in_the_middle_of_the_file_is_named_and_left_byte_for_byte(int page)
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await WriteDatabaseAsync(db);
        using (var file = File.OpenWrite(db))
        {
            file.Seek((page * 8192) + 64, SeekOrigin.Begin);
            file.Write(Enumerable.Repeat((byte)0xFF, 300).ToArray());
        }

        var before = DirectorySnapshot.Take(folder.Path);
        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--db", db);
        Assert.Equal(ExitCodes.DatabaseUnavailable, code);
        Assert.Contains($"cannot open seed database '{db}'", output, StringComparison.Ordinal);
        Assert.Contains("the file is damaged", output, StringComparison.Ordinal);
        Assert.Contains("left untouched", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        before.AssertUnchanged(folder.Path, "a start refused for a damaged database");
    }

    /// <summary>A database as seedd leaves it after a clean stop: experiments, issued keys, a ledger.</summary>
    private static async Task WriteDatabaseAsync(string db)
    {
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        using var channel = TestChannels.Create(seedd.Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        for (var e = 1; e <= 3; e++)
        {
            await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = $"startup/e{e}", Root = e.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }

        var batch = new BatchGetSeedsRequest();
        batch.Requests.AddRange(Enumerable.Range(1, 50).Select(w => new GetSeedRequest { ExperimentId = "startup/e1", Worker = (uint)w, Library = "torch" }));
        await seeds.BatchGetSeedsAsync(batch);
        Assert.Equal(ExitCodes.Ok, await seedd.StopAsync());
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
    public async Task The_READMEs_token_recipe_gives_a_hash_seedd_accepts_and_sha256sums_whole_line_is_named()
    {
        using var folder = new TempFolder();
        const string Token = "a-fleet-token-7781";
        var recipe = await ProcessRunner.RunAsync("bash", ["-c", "printf %s \"$TOKEN\" | sha256sum | cut -d' ' -f1"], environment: new Dictionary<string, string> { ["TOKEN"] = Token });
        var hash = recipe.Stdout.Trim();
        var whole = (await ProcessRunner.RunAsync("bash", ["-c", "printf %s \"$TOKEN\" | sha256sum"], environment: new Dictionary<string, string> { ["TOKEN"] = Token })).Stdout.Trim();

        Dictionary<string, string?> Settings(string sha256) => new()
        {
            ["Seedd__Auth__Tokens__0__Name"] = "fleet",
            ["Seedd__Auth__Tokens__0__Role"] = "issuer",
            ["Seedd__Auth__Tokens__0__Sha256"] = sha256,
        };

        var (code, output) = await SeeddProcess.RunToExitAsync(Settings(whole), "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("is sha256sum's whole line", output, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));

        await using var seedd = await SeeddProcess.StartAsync(Settings(hash), "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        Assert.Contains("auth on", await seedd.WaitForOutputAsync("auth "), StringComparison.Ordinal);
        using var channel = TestChannels.Create(seedd.Address);
        var listed = await new SeedService.SeedServiceClient(channel).ListExperimentsAsync(new ListExperimentsRequest(), new Grpc.Core.Metadata { { "authorization", "Bearer " + Token } });
        Assert.Empty(listed.Experiments);
    }

    [Fact]
    public async Task Help_prints_usage()
    {
        var (code, output) = await SeeddProcess.RunToExitAsync("--help");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("Usage: seedd", output, StringComparison.Ordinal);
        foreach (var item in new[] { "--listen", "--db", "--postgres", "--http-listen", "--config", "REST", "/metrics", "Seedd:Auth:Tokens", "unix:" })
        {
            Assert.Contains(item, output, StringComparison.Ordinal);
        }
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
