namespace SeedDaemon.Tests.Operations;

/// <summary>systemd/install.sh into a scratch root: installs, is idempotent, keeps configuration, uninstalls.</summary>
public sealed class InstallTests
{
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Install_twice_then_uninstall()
    {
        using var folder = new TempFolder();
        var script = Path.Combine(TestPaths.RepoRoot, "systemd", "install.sh");
        var connection = folder.File("postgres.conn");
        await File.WriteAllTextAsync(connection, "Host=db1,db2;Database=seedd;Username=seedd;Password=not-in-the-unit");
        var first = await ProcessRunner.RunAsync("bash", [script, "--root", folder.Path, "--postgres", connection], timeout: TimeSpan.FromMinutes(5));
        Assert.True(first.ExitCode == 0, first.Stdout + first.Stderr);
        Assert.Contains("systemctl enable --now seedd", first.Stdout, StringComparison.Ordinal);
        foreach (var path in new[] { "usr/lib/seedd/seedd", "usr/lib/seedd/seedctl/seedctl", "etc/systemd/system/seedd.service", "etc/seedd/appsettings.json", "etc/seedd/seedd.env" })
        {
            Assert.True(File.Exists(Path.Combine(folder.Path, path)), path + " is missing");
        }

        Assert.Equal("/usr/lib/seedd/seedd", new FileInfo(Path.Combine(folder.Path, "usr/bin/seedd")).LinkTarget);
        Assert.Equal("/usr/lib/seedd/seedctl/seedctl", new FileInfo(Path.Combine(folder.Path, "usr/bin/seedctl")).LinkTarget);

        // Replicated mode: the drop-in, and the connection string readable by root only, never in the unit.
        var installedConnection = Path.Combine(folder.Path, "etc/seedd/postgres.conn");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(installedConnection));
        Assert.Contains("%d/postgres", await File.ReadAllTextAsync(Path.Combine(folder.Path, "etc/systemd/system/seedd.service.d/postgres.conf")), StringComparison.Ordinal);
        Assert.DoesNotContain("not-in-the-unit", await File.ReadAllTextAsync(Path.Combine(folder.Path, "etc/systemd/system/seedd.service")), StringComparison.Ordinal);

        // A daemon host carries no libtorch, and the installed seedctl's doctor passes there.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(folder.Path, "usr/lib/seedd"), "libtorch*", SearchOption.AllDirectories));

        // Nor the native libraries TorchSharp and SkiaSharp bring for every OS (seedctl was 52 MB with them).
        var seedctlBytes = Directory.EnumerateFiles(Path.Combine(folder.Path, "usr/lib/seedd/seedctl"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.True(seedctlBytes < 15 * 1024 * 1024, $"the installed seedctl takes {seedctlBytes / 1024 / 1024} MB");
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(folder.Path, "usr/lib/seedd/seedctl"), "*", SearchOption.AllDirectories), f => f.Contains("/runtimes/", StringComparison.Ordinal));
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", folder.File("doctor.db")))
        {
            var doctor = await ProcessRunner.RunAsync(Path.Combine(folder.Path, "usr/lib/seedd/seedctl/seedctl"), ["doctor", "--address", seedd.Address]);
            Assert.True(doctor.ExitCode == 0, doctor.Stdout + doctor.Stderr);
            Assert.Contains("not checked here", doctor.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("FAIL", doctor.Stdout, StringComparison.Ordinal);
        }
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
        Assert.False(File.Exists(Path.Combine(folder.Path, "etc/systemd/system/seedd.service.d/postgres.conf")));
        Assert.True(File.Exists(config), "configuration is kept");
    }

    [Fact]
    public async Task Help_prints_the_usage_not_the_script()
    {
        var help = await ProcessRunner.RunAsync("bash", [Path.Combine(TestPaths.RepoRoot, "systemd", "install.sh"), "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.StartsWith("Installs seedd and seedctl as a systemd service", help.Stdout, StringComparison.Ordinal);
        Assert.Contains("--uninstall", help.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("set -euo", help.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("#", help.Stdout, StringComparison.Ordinal);
    }
}
