using System.Text.Json;

namespace SeedDaemon.Testing;

/// <summary>
/// seedd_client installed as the README says — a <c>python3 -m venv --system-site-packages</c> venv
/// on Debian's /usr/bin/python3 and <c>pip install --no-deps --no-build-isolation --no-index
/// src/Client/python</c> — once per test run, and run from an empty folder of its own with nothing
/// else on PATH (no protoc), an empty HOME (no NuGet cache) and no repository on PYTHONPATH: what a
/// Python-only training node has.
/// </summary>
public static class PythonClientPackage
{
    private static readonly Lazy<Task<string>> Venv = new(InstallAsync);
    private static readonly TempFolder Folder = NewFolder();

    /// <summary>The venv's folder lives as long as the test process: removed when it exits (it was left behind, 26 MB a run).</summary>
    private static TempFolder NewFolder()
    {
        var folder = new TempFolder();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => folder.Dispose();
        return folder;
    }

    /// <summary>The venv's python, after the package was installed into it.</summary>
    public static Task<string> PythonAsync() => Venv.Value;

    public static string SourceFolder => Path.Combine(TestPaths.RepoRoot, "src", "Client", "python");

    /// <summary>What a training node's process sees: the venv only, an empty home, an unrelated working folder.</summary>
    public static Dictionary<string, string> Environment(string venvPython) => new()
    {
        ["PATH"] = Path.GetDirectoryName(venvPython)!,
        ["HOME"] = Folder.File("home"),
        ["NUGET_PACKAGES"] = "",
        ["PYTHONPATH"] = Path.Combine(AppContext.BaseDirectory, "Python"),
        ["PYTHONDONTWRITEBYTECODE"] = "1",
    };

    /// <summary>Runs a module or script with the installed package (e.g. "-m", "seedd_client.sample", ...).</summary>
    public static async Task<ProcessRunner.Result> RunAsync(IEnumerable<string> args, IDictionary<string, string>? extraEnvironment = null, TimeSpan? timeout = null)
    {
        var python = await PythonAsync();
        var environment = Environment(python);
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        Directory.CreateDirectory(Folder.File("work"));
        return await ProcessRunner.RunAsync(python, args, environment: environment, workingDirectory: Folder.File("work"), timeout: timeout ?? TimeSpan.FromMinutes(3));
    }

    /// <summary>Runs a scenario of client_scenarios.py and parses the JSON it prints; fails with its output otherwise.</summary>
    public static async Task<JsonElement> ScenarioAsync(string scenario, params string[] args)
    {
        var result = await RunAsync([TestPaths.PythonScript("client_scenarios.py"), scenario, .. args]);
        Assert.True(result.ExitCode == 0, $"client_scenarios.py {scenario} exited {result.ExitCode}\nstderr:\n{result.Stderr}\nstdout:\n{result.Stdout}");
        using var document = JsonDocument.Parse(result.Stdout);
        return document.RootElement.Clone();
    }

    private static async Task<string> InstallAsync()
    {
        if (!File.Exists(Python.Interpreter))
        {
            throw new InvalidOperationException($"{Python.Interpreter} is missing (tests/run-all.sh installs python3).");
        }

        var venv = Folder.File("venv");
        Directory.CreateDirectory(Folder.File("home"));
        var create = await ProcessRunner.RunAsync(Python.Interpreter, ["-m", "venv", "--system-site-packages", venv]);
        Assert.True(create.ExitCode == 0, $"python3 -m venv failed (Debian package python3-venv): {create.Stderr}");
        var python = Path.Combine(venv, "bin", "python");
        var install = await ProcessRunner.RunAsync(python, ["-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", SourceFolder], timeout: TimeSpan.FromMinutes(3));
        Assert.True(install.ExitCode == 0, $"pip install of {SourceFolder} failed (needs python3-setuptools and python3-wheel):\n{install.Stderr}\n{install.Stdout}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Folder.Dispose();
        return python;
    }
}
