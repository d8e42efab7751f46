using System.Text.RegularExpressions;

namespace SeedDaemon.Tests.Operations;

/// <summary>
/// Every file the tests read outside the repository belongs to a Debian package that tests/run-all.sh
/// installs by name, or that one of those Depends on (apt-get follows Depends even with
/// --no-install-recommends), or to an essential one: never to a package that only came as a
/// Recommends, or by hand. A fresh machine once failed because /usr/include/google/protobuf/*.proto (libprotobuf-dev)
/// was only a Recommends of protobuf-compiler.
/// </summary>
public sealed partial class TestDependenciesTests
{
    /// <summary>The files and programs the tests and the scripts they run use, outside the repository.</summary>
    private static readonly string[] ExternalFiles =
    [
        "/usr/bin/python3",
        "/usr/bin/protoc",
        "/usr/bin/grpc_python_plugin",
        "/usr/include/google/protobuf/descriptor.proto",
        "/usr/include/google/protobuf/timestamp.proto",
        "/usr/include/google/protobuf/any.proto",
        "/usr/include/google/protobuf/duration.proto",
        "/usr/lib/python3.11/ensurepip/__init__.py",
        "/usr/bin/time",
        "/usr/bin/systemd-analyze",
        "/usr/bin/git",
        "/usr/bin/strace",
        "/usr/bin/curl",
        "/usr/bin/chromium",
        "/usr/sbin/runuser",
        "/usr/lib/postgresql/15/bin/initdb",
        "/usr/lib/postgresql/15/bin/pg_ctl",
        "/usr/lib/postgresql/15/bin/postgres",
        "/usr/lib/postgresql/15/bin/pg_basebackup",
        "/usr/lib/postgresql/15/bin/psql",
        "/usr/bin/go",
        "/usr/share/gocode/src/golang.org/x/mod/sumdb/tlog/tlog.go",
        "/usr/share/gocode/src/golang.org/x/mod/sumdb/note/note.go",
    ];

    /// <summary>The Python modules the oracles and seedd_client import, resolved by Debian's interpreter.</summary>
    private static readonly string[] PythonModules =
    [
        "numpy", "numpy.random.tests", "torch", "sklearn", "grpc", "google.protobuf", "setuptools", "wheel",
    ];

    [Fact]
    public async Task Every_external_file_the_tests_read_comes_from_a_package_the_test_command_installs()
    {
        var named = Packages();
        var installed = await DependencyClosureAsync(named);
        var script = string.Join(';', PythonModules.Select(m => $"import {m}; print({m}.__file__)"));
        var modules = await ProcessRunner.RunAsync(Python.Interpreter, ["-c", script]);
        Assert.True(modules.ExitCode == 0, modules.Stderr);
        var files = ExternalFiles.Concat(modules.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();

        var problems = new List<string>();
        foreach (var file in files)
        {
            var owner = await OwnerAsync(file);
            if (owner is null)
            {
                problems.Add($"{file}: no Debian package owns it (installed by hand?)");
            }
            else if (!installed.Contains(owner) && !await IsEssentialAsync(owner))
            {
                problems.Add($"{file}: from {owner}, which is neither in tests/run-all.sh's packages nor a Depends of one of them");
            }
        }

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    private static HashSet<string> Packages()
    {
        var script = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tests", "run-all.sh"));
        var list = PackageList().Match(script);
        Assert.True(list.Success, "tests/run-all.sh has no packages=( ... ) list");
        return list.Groups[1].Value.Split('\n')
            .Select(line => line.Split('#')[0])
            .SelectMany(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The packages and everything they Depend on (or Pre-Depend on), as apt resolves it.</summary>
    private static async Task<HashSet<string>> DependencyClosureAsync(IEnumerable<string> packages)
    {
        var result = await ProcessRunner.RunAsync("apt-cache", ["depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", .. packages]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Split('\n').Where(l => l.Length > 0 && !char.IsWhiteSpace(l[0])).Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);
    }

    private static async Task<string?> OwnerAsync(string file)
    {
        // usrmerge: dpkg may know a file under /bin, /sbin or /lib rather than /usr/....
        foreach (var path in new[] { file, file.StartsWith("/usr/", StringComparison.Ordinal) ? file[4..] : file })
        {
            var result = await ProcessRunner.RunAsync("dpkg", ["-S", path]);
            if (result.ExitCode == 0)
            {
                return result.Stdout.Split(':')[0].Split(',')[0].Trim();
            }
        }

        return null;
    }

    private static async Task<bool> IsEssentialAsync(string package)
    {
        var result = await ProcessRunner.RunAsync("dpkg-query", ["-W", "-f=${Essential}", package]);
        return result.Stdout.Trim() == "yes";
    }

    [GeneratedRegex(@"^packages=\((.*?)^\)", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex PackageList();
}
