namespace SeedDaemon.Tests.Operations;

/// <summary>systemd/install.sh into a scratch root: installs, is idempotent, keeps configuration, uninstalls.</summary>
public sealed class InstallTests
{
    [Fact]
    public async Task Install_twice_then_uninstall()
    {
        using var folder = new TempFolder();
        var script = Path.Combine(TestPaths.RepoRoot, "systemd", "install.sh");
        var first = await ProcessRunner.RunAsync("bash", [script, "--root", folder.Path], timeout: TimeSpan.FromMinutes(5));
        Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
        Assert.Contains("systemctl enable --now seedd", first.Stdout, StringComparison.Ordinal);
        foreach (var path in new[] { "usr/lib/seedd/seedd", "usr/lib/seedd/seedctl/seedctl", "etc/systemd/system/seedd.service", "etc/seedd/appsettings.json", "etc/seedd/seedd.env" })
        {
            Assert.True(File.Exists(Path.Combine(folder.Path, path)), path + " is missing");
        }

        Assert.Equal("/usr/lib/seedd/seedd", new FileInfo(Path.Combine(folder.Path, "usr/bin/seedd")).LinkTarget);
        var config = Path.Combine(folder.Path, "etc/seedd/appsettings.json");
        await File.AppendAllTextAsync(config, "\n");
        var edited = await File.ReadAllTextAsync(config);

        var again = await ProcessRunner.RunAsync("bash", [script, "--root", folder.Path], timeout: TimeSpan.FromMinutes(5));
        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        Assert.Equal(edited, await File.ReadAllTextAsync(config));

        // The installed daemon runs with the installed configuration.
        var help = await ProcessRunner.RunAsync(Path.Combine(folder.Path, "usr/lib/seedd/seedd"), ["--help"]);
        Assert.Contains("Usage: seedd", help.Stdout, StringComparison.Ordinal);

        var removed = await ProcessRunner.RunAsync("bash", [script, "--uninstall", "--root", folder.Path]);
        Assert.True(removed.ExitCode == 0, removed.Stdout + removed.Stderr);
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "usr/lib/seedd")));
        Assert.False(File.Exists(Path.Combine(folder.Path, "etc/systemd/system/seedd.service")));
        Assert.True(File.Exists(config), "configuration is kept");
    }
}
