namespace SeedDaemon.Testing;

/// <summary>
/// Debian's /usr/bin/python3 with NumPy, grpcio and protobuf: the tests' external oracle. The test
/// command installs them; a test that needs them fails with the package names when they are missing.
/// </summary>
public static class Python
{
    public const string Interpreter = "/usr/bin/python3";

    public static async Task<string> RunScriptAsync(string script, string? stdin = null, IEnumerable<string>? args = null, IDictionary<string, string>? environment = null)
    {
        if (!File.Exists(Interpreter))
        {
            throw new InvalidOperationException($"{Interpreter} is missing: install python3 python3-numpy python3-grpcio python3-protobuf (run tests/run-all.sh as root).");
        }

        var result = await ProcessRunner.RunAsync(Interpreter, [TestPaths.PythonScript(script), .. args ?? []], stdin, TimeSpan.FromMinutes(3), environment);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} exited {result.ExitCode}. Needs Debian's python3-numpy, python3-grpcio, python3-protobuf (tests/run-all.sh installs them).\nstderr:\n{result.Stderr}\nstdout:\n{result.Stdout}");
        }

        return result.Stdout;
    }
}
