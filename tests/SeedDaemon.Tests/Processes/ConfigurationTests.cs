extern alias daemon;

using daemon::SeedDaemon.Daemon.Hosting;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Processes;

/// <summary>
/// What a user types into a configuration file or the environment: every mistake is one line that
/// names where it is and what is wrong, exit 2, and nothing written; and the database is the same
/// one whatever directory seedd starts from.
/// </summary>
public sealed class ConfigurationTests
{
    public static TheoryData<string, string> BadFiles => new()
    {
        // A trailing comma and a missing brace: JSON's own error, with where it is.
        { """{ "Seedd": { "MaxBatchKeys": 10, }""", "is not a valid JSON configuration file (line " },
        { "[1, 2]", "is not a valid JSON configuration file: Top-level JSON element must be an object" },
        { """{ "Seedd": { "MaxBatchKey": 10 } }""", "Seedd:MaxBatchKey is not a setting seedd knows (did you mean Seedd:MaxBatchKeys?)." },
        { """{ "Seedd": { "MaxBatchKeys": "lots" } }""", "Seedd:MaxBatchKeys: 'lots' is not a whole number." },
        { """{ "Seedd": { "Auth": { "AllowAnonymous": "yes" } } }""", "Seedd:Auth:AllowAnonymous: 'yes' is not true or false." },
        { """{ "Seedd": { "Auth": { "Tokens": [ { "Nmae": "ci", "Role": "issuer" } ] } } }""", "Seedd:Auth:Tokens:0:Nmae is not a setting seedd knows (did you mean Seedd:Auth:Tokens:0:Name?)." },
        { """{ "Sedd": { "Listen": "127.0.0.1:0" } }""", "'Sedd' is not a section seedd reads (did you mean Seedd?)." },
        { """{ "Seedd": { "Listen": { "Port": 1 } } }""", "Seedd:Listen is a single value, not a section." },
        // The logging library reads its levels only when the first logger is made, and threw there.
        { """{ "Logging": { "LogLevel": { "Default": "Verbose" } } }""", "Logging:LogLevel:Default: 'Verbose' is not a log level (Trace, Debug, Information, Warning, Error, Critical or None)." },
        { """{ "Logging": { "Console": { "LogLevel": { "SeedDaemon": "Loud" } } } }""", "Logging:Console:LogLevel:SeedDaemon: 'Loud' is not a log level" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_mistake_in_the_config_file_is_one_line_naming_the_file_and_the_key(string json, string expected)
    {
        using var folder = new TempFolder();
        var config = folder.File("appsettings.json");
        await File.WriteAllTextAsync(config, json);
        var before = DirectorySnapshot.Take(folder.Path);

        var (code, output) = await SeeddProcess.RunToExitAsync("--config", config, "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"seedd: invalid configuration: {config}", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        before.AssertUnchanged(folder.Path, "a start refused for its configuration");
    }

    [Fact]
    public async Task Sections_of_other_tools_in_the_file_are_left_alone()
    {
        using var folder = new TempFolder();
        var config = folder.File("appsettings.json");
        await File.WriteAllTextAsync(config, """{ "$schema": "https://json.schemastore.org/appsettings.json", "ConnectionStrings": { "x": "y" }, "Serilog": {}, "Seedd": { "MaxBatchKeys": 100 } }""");
        await using var seedd = await SeeddProcess.StartAsync("--config", config, "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        Assert.Contains("listening on", seedd.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_misspelled_environment_variable_is_named_as_it_was_set()
    {
        using var folder = new TempFolder();
        var config = folder.File("appsettings.json");
        await File.WriteAllTextAsync(config, "{}");

        // With --config the environment is read twice (before the file and after it): still one line.
        var (code, output) = await SeeddProcess.RunToExitAsync(new Dictionary<string, string?> { ["Seedd__Lisen"] = "127.0.0.1:0" }, "--config", config, "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Equal("seedd: invalid configuration: the environment: Seedd__Lisen is not a setting seedd knows (did you mean Seedd__Listen?).", output.Trim());
        Assert.Equal(["appsettings.json"], Directory.EnumerateFileSystemEntries(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task An_empty_log_level_is_not_set_as_the_logging_library_reads_it_and_a_bad_one_from_the_environment_is_named_as_set()
    {
        using var folder = new TempFolder();
        await using (var seedd = await SeeddProcess.StartAsync(new Dictionary<string, string?> { ["Logging__LogLevel__Default"] = "" }, "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db")))
        {
            Assert.StartsWith("http://", seedd.Address, StringComparison.Ordinal);
        }

        var (code, output) = await SeeddProcess.RunToExitAsync(new Dictionary<string, string?> { ["Logging__LogLevel__Default"] = "Verbose" }, "--listen", "127.0.0.1:0", "--db", folder.File("other.db"));
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("Logging__LogLevel__Default: 'Verbose' is not a log level", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_config_path_that_is_a_directory_says_so()
    {
        using var folder = new TempFolder();
        var (code, output) = await SeeddProcess.RunToExitAsync("--config", folder.Path, "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains($"--config: {folder.Path} is a directory, not a JSON file.", output, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
    }

    [Fact]
    public async Task Without_db_seedd_opens_the_same_database_from_any_directory_and_says_when_it_creates_one()
    {
        using var folder = new TempFolder();
        var home = Directory.CreateDirectory(folder.File("home")).FullName;
        var environment = new Dictionary<string, string?> { ["HOME"] = home, ["XDG_DATA_HOME"] = "", ["STATE_DIRECTORY"] = "" };
        var expected = Path.Combine(home, ".local", "share", "seedd", "seeds.db");

        await using (var first = await SeeddProcess.StartInAsync(Directory.CreateDirectory(folder.File("project")).FullName, environment, "--listen", "127.0.0.1:0"))
        {
            Assert.Contains($"Created a new, empty seed database at {expected}: no database existed there", first.Output, StringComparison.Ordinal);
            using var channel = TestChannels.Create(first.Address);
            await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "demo/run-1", Root = "42" });
            Assert.Equal(ExitCodes.Ok, await first.StopAsync());
        }

        await using var second = await SeeddProcess.StartInAsync(Directory.CreateDirectory(folder.File("elsewhere")).FullName, environment, "--listen", "127.0.0.1:0");
        Assert.Contains($"Opened seed database {expected}: 1 experiments", second.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Created a new", second.Output, StringComparison.Ordinal);
        using var again = TestChannels.Create(second.Address);
        var experiment = await new SeedService.SeedServiceClient(again).GetExperimentAsync(new GetExperimentRequest { ExperimentId = "demo/run-1" });
        Assert.Equal("42", experiment.Root);
        Assert.False(Directory.Exists(folder.File("project/data")) || Directory.Exists(folder.File("elsewhere/data")), "nothing may be written beside the working directory");
    }

    [Fact]
    public async Task A_database_where_earlier_releases_kept_it_is_named_not_replaced_by_a_new_empty_one()
    {
        using var folder = new TempFolder();
        var project = Directory.CreateDirectory(folder.File("project")).FullName;
        Directory.CreateDirectory(Path.Combine(project, "data"));
        await File.WriteAllTextAsync(Path.Combine(project, "data", "seeds.db"), "an old database");
        var home = Directory.CreateDirectory(folder.File("home")).FullName;
        var before = DirectorySnapshot.Take(folder.Path);

        var started = new System.Diagnostics.ProcessStartInfo("dotnet") { WorkingDirectory = project, RedirectStandardError = true, RedirectStandardOutput = true };
        started.ArgumentList.Add(TestPaths.SeeddDll);
        started.ArgumentList.Add("--listen");
        started.ArgumentList.Add("127.0.0.1:0");
        started.Environment["HOME"] = home;
        started.Environment["XDG_DATA_HOME"] = "";
        started.Environment["STATE_DIRECTORY"] = "";
        using var seedd = System.Diagnostics.Process.Start(started)!;
        var error = await seedd.StandardError.ReadToEndAsync();
        await seedd.WaitForExitAsync();

        Assert.Equal(ExitCodes.InvalidConfiguration, seedd.ExitCode);
        Assert.Contains($"{Path.Combine(project, "data", "seeds.db")} is where seedd 1.1 and earlier kept the database", error, StringComparison.Ordinal);
        Assert.Contains("--db", error, StringComparison.Ordinal);
        before.AssertUnchanged(folder.Path, "a start refused for a database in the old place");
    }

    [Fact]
    public async Task Under_systemd_the_default_database_is_in_the_state_directory()
    {
        using var folder = new TempFolder();
        var state = Directory.CreateDirectory(folder.File("var-lib-seedd")).FullName;
        await using var seedd = await SeeddProcess.StartInAsync(folder.Path, new Dictionary<string, string?> { ["STATE_DIRECTORY"] = state }, "--listen", "127.0.0.1:0");
        Assert.Contains($"store {Path.Combine(state, "seeds.db")}", seedd.Output, StringComparison.Ordinal);
    }
}
