namespace SeedDaemon.Tests.CrossLanguage;

/// <summary>
/// buf (npm @bufbuild/buf, installed by tests/run-all.sh into tests/.tools): the protos pass
/// STANDARD lint with the exceptions protos/buf.yaml lists, and the current protos do not break the
/// version before the last change to protos/ (FILE rules).
/// </summary>
public sealed class BufTests
{
    private static string Buf => Path.Combine(TestPaths.RepoRoot, "tests", ".tools", "node_modules", ".bin", "buf");

    private static string Config => Path.Combine(TestPaths.Protos, "buf.yaml");

    [Fact]
    public async Task The_protos_pass_buf_lint()
    {
        using var workspace = new TempFolder();
        await Materialize(TestPaths.Protos, workspace.Path);
        var lint = await RunBuf("lint", workspace.Path, "--config", Config);
        Assert.True(lint.ExitCode == 0, "buf lint: " + lint.Stdout + lint.Stderr);
    }

    [Fact]
    public async Task The_protos_do_not_break_their_previous_version()
    {
        var previous = await BaseAsync();
        using var current = new TempFolder();
        using var before = new TempFolder();
        await Materialize(TestPaths.Protos, current.Path);
        var archive = await ProcessRunner.RunAsync("bash", ["-c", $"git -C '{TestPaths.RepoRoot}' archive {previous} protos | tar -x -C '{before.Path}'"]);
        Assert.True(archive.ExitCode == 0, "git archive: " + archive.Stderr);
        await Materialize(Path.Combine(before.Path, "protos"), Path.Combine(before.Path, "against"));

        var breaking = await RunBuf("breaking", current.Path, "--against", Path.Combine(before.Path, "against"), "--config", Config);
        Assert.True(breaking.ExitCode == 0, $"buf breaking against {previous}: " + breaking.Stdout + breaking.Stderr);
    }

    /// <summary>
    /// The protos' previous version: the newest commit whose protos differ from the working tree's
    /// (the oldest commit when they never changed). A shallow clone hides that history, and comparing
    /// the protos with themselves proves nothing: the history is fetched, or the test fails saying why.
    /// </summary>
    private static async Task<string> BaseAsync()
    {
        await GitHistory.EnsureFullAsync("buf breaking has no previous version of protos/ to compare with");

        var history = await GitHistory.RunAsync("log", "--format=%H", "--", "protos");
        Assert.True(history.ExitCode == 0, "git log: " + history.Stderr);
        var commits = history.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(commits);
        foreach (var commit in commits)
        {
            if ((await GitHistory.RunAsync("diff", "--quiet", commit, "--", "protos")).ExitCode == 1)
            {
                return commit;
            }
        }

        return commits[^1];
    }

    /// <summary>Our protos plus google/api's two files (so imports resolve; buf.yaml ignores them).</summary>
    private static async Task Materialize(string protos, string target)
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(protos, "seeddaemon"), "*.proto", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(protos, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        var googleApi = Path.Combine(target, "google", "api");
        Directory.CreateDirectory(googleApi);
        foreach (var name in new[] { "annotations.proto", "http.proto" })
        {
            File.Copy(Path.Combine(TestPaths.GoogleApiProtos, "google", "api", name), Path.Combine(googleApi, name));
        }

        await Task.CompletedTask;
    }

    private static async Task<ProcessRunner.Result> RunBuf(params string[] args)
    {
        Assert.True(File.Exists(Buf), $"{Buf} is missing: tests/run-all.sh installs it (npm install @bufbuild/buf@1.75.0).");
        return await ProcessRunner.RunAsync(Buf, args, timeout: TimeSpan.FromMinutes(2));
    }
}
