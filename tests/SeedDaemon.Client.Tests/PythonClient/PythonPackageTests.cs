namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>seedd_client as a real package: what it carries is what protos/ generates, and it installs and runs anywhere.</summary>
public sealed class PythonPackageTests
{
    private static string CommittedStubs => Path.Combine(PythonClientPackage.SourceFolder, "seedd_client", "_proto");

    [Fact]
    public async Task The_committed_stubs_are_exactly_what_protos_generate()
    {
        using var fresh = new TempFolder();
        var generate = await ProcessRunner.RunAsync(Python.Interpreter, [Path.Combine(PythonClientPackage.SourceFolder, "generate_stubs.py"), "--out", fresh.Path, "--googleapis", TestPaths.GoogleApiProtos]);
        Assert.True(generate.ExitCode == 0, "generate_stubs.py failed (Debian's protobuf-compiler, protobuf-compiler-grpc and libprotobuf-dev): " + generate.Stderr);

        var generated = Stubs(fresh.Path);
        var committed = Stubs(CommittedStubs);
        Assert.Equal(generated.Keys.Order(StringComparer.Ordinal), committed.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("seed_service_pb2_grpc.py", generated.Keys);
        foreach (var (name, text) in generated)
        {
            Assert.True(text == committed[name], $"{name} differs from what protos/ generates: run /usr/bin/python3 src/Client/python/generate_stubs.py and commit the result.");
        }
    }

    [Fact]
    public async Task The_installed_package_runs_without_protoc_NuGet_cache_or_repository()
    {
        var package = await PythonClientPackage.ScenarioAsync("package");
        Assert.Equal(package.GetProperty("metadata_version").GetString(), package.GetProperty("version").GetString());
        Assert.True(package.GetProperty("py_typed").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, package.GetProperty("protoc_on_path").ValueKind);
        Assert.DoesNotContain(TestPaths.RepoRoot, package.GetProperty("location").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(TestPaths.RepoRoot, package.GetProperty("cwd").GetString(), StringComparison.Ordinal);
        var requires = package.GetProperty("requires").EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.Contains(requires, r => r.StartsWith("grpcio", StringComparison.Ordinal));
        Assert.Contains(requires, r => r.StartsWith("protobuf", StringComparison.Ordinal));
    }

    /// <summary>
    /// grpcio's fork support makes fork() wait for gRPC's executor threads, which hung a DataLoader
    /// starting its workers while a run's reports were in flight (train_runs.py, about once in 25
    /// launches of three ranks here; never in 80 with it off): importing seedd_client turns it off
    /// unless the user set it.
    /// </summary>
    [Theory]
    [InlineData(null, "0")]
    [InlineData("1", "1")]
    public async Task Importing_the_client_turns_grpcs_fork_handlers_off_unless_the_user_set_them(string? given, string expected)
    {
        var result = await PythonClientPackage.RunAsync(
            [TestPaths.PythonScript("client_scenarios.py"), "fork_support"],
            given is null ? null : new Dictionary<string, string> { ["GRPC_ENABLE_FORK_SUPPORT"] = given });
        Assert.True(result.ExitCode == 0, result.Stderr);
        using var document = System.Text.Json.JsonDocument.Parse(result.Stdout);
        Assert.Equal(expected, document.RootElement.GetProperty("GRPC_ENABLE_FORK_SUPPORT").GetString());
    }

    [Fact]
    public async Task What_pip_leaves_in_the_source_folder_is_ignored_by_git()
    {
        await PythonClientPackage.PythonAsync();
        foreach (var path in new[] { "src/Client/python/build/lib/seedd_client/client.py", "src/Client/python/seedd_client.egg-info/PKG-INFO" })
        {
            var ignored = await ProcessRunner.RunAsync("git", ["-C", TestPaths.RepoRoot, "check-ignore", "-q", path]);
            Assert.True(ignored.ExitCode == 0, $".gitignore must cover {path} (pip leaves build/ and *.egg-info in the source folder)");
        }

        var stubs = await ProcessRunner.RunAsync("git", ["-C", TestPaths.RepoRoot, "check-ignore", "-q", "src/Client/python/seedd_client/_proto/seed_service_pb2.py"]);
        Assert.True(stubs.ExitCode == 1, "the committed stubs of seedd_client must not be ignored");
    }

    private static Dictionary<string, string> Stubs(string folder) =>
        Directory.EnumerateFiles(folder, "*.py", SearchOption.AllDirectories)
            .Where(f => f.EndsWith("_pb2.py", StringComparison.Ordinal) || f.EndsWith("_pb2_grpc.py", StringComparison.Ordinal))
            .ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllText, StringComparer.Ordinal);
}
