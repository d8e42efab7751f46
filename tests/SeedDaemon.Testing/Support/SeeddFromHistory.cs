namespace SeedDaemon.Testing;

/// <summary>An earlier release of seedd, built from this repository's history, to write the files an older layout holds.</summary>
public static class SeeddFromHistory
{
    /// <summary>
    /// Builds seedd's daemon at <paramref name="commit"/> (about 20 to 60 s) into <paramref name="folder"/>
    /// from the paths it needs (<paramref name="sources"/>, as they were then); returns its seedd.dll.
    /// </summary>
    public static async Task<string> BuildAsync(string commit, string folder, params string[] sources)
    {
        await GitHistory.EnsureFullAsync($"seedd at {commit[..7]} cannot be built to write a database in its storage layout");
        var source = Path.Combine(folder, "src");
        Directory.CreateDirectory(source);
        var archive = await ProcessRunner.RunAsync("bash", ["-c", $"git -C '{TestPaths.RepoRoot}' archive {commit} Directory.Build.props Directory.Packages.props global.json .editorconfig protos {string.Join(' ', sources)} | tar -x -C '{source}'"]);
        Assert.True(archive.ExitCode == 0, "git archive: " + archive.Stderr);
        var output = Path.Combine(folder, "out");
        var build = await ProcessRunner.RunAsync("dotnet", ["build", Path.Combine(source, "src", "Daemon"), "-c", "Release", "-o", output, "--nologo", "-v", "q"], timeout: TimeSpan.FromMinutes(5));
        Assert.True(build.ExitCode == 0, $"building seedd at {commit[..7]}: " + build.Stdout + build.Stderr);
        return Path.Combine(output, "seedd.dll");
    }
}
