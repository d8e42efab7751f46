namespace SeedDaemon.Tests.Ledger;

/// <summary>Runs one of the Go oracles (tests/SeedDaemon.Testing/Go, on Debian's golang-go and golang-golang-x-mod-dev) over commands, one a line; its answers, one a command.</summary>
internal static class GoOracle
{
    public static async Task<List<string>> RunAsync(string program, IEnumerable<string> commands)
    {
        using var cache = new TempFolder();
        var result = await ProcessRunner.RunAsync(
            "/usr/bin/go",
            ["run", Path.Combine(AppContext.BaseDirectory, "Go", program)],
            stdin: string.Join('\n', commands) + "\n",
            timeout: TimeSpan.FromMinutes(3),
            environment: new Dictionary<string, string> { ["GO111MODULE"] = "off", ["GOPATH"] = "/usr/share/gocode", ["GOCACHE"] = cache.Path, ["GOFLAGS"] = "" });
        Assert.True(result.ExitCode == 0, $"go run {program}: " + result.Stderr);
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }
}
