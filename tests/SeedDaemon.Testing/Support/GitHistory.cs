namespace SeedDaemon.Testing;

/// <summary>The repository's own history, for tests that compare with an earlier version (protos, a database layout).</summary>
public static class GitHistory
{
    public static Task<ProcessRunner.Result> RunAsync(params string[] args) => ProcessRunner.RunAsync("git", ["-C", TestPaths.RepoRoot, .. args], timeout: TimeSpan.FromMinutes(5));

    /// <summary>
    /// A shallow clone hides the earlier versions these tests need, and comparing a thing with itself
    /// proves nothing: the history is fetched, or the test fails saying why it cannot check.
    /// </summary>
    public static async Task EnsureFullAsync(string why)
    {
        var shallow = await RunAsync("rev-parse", "--is-shallow-repository");
        if (shallow.Stdout.Trim() == "true")
        {
            var fetch = await RunAsync("fetch", "--unshallow", "--quiet");
            Assert.True(fetch.ExitCode == 0, $"This clone is shallow and its history could not be fetched ({fetch.Stderr.Trim()}): {why}. Run the tests in a full clone (git clone without --depth).");
        }
    }
}
