using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace SeedDaemon.Testing;

/// <summary>seedd as a real OS process (dotnet seedd.dll), for what only processes show: restarts, signals, exit codes.</summary>
public sealed partial class SeeddProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SeeddProcess(Process process)
    {
        _process = process;
    }

    public string Address { get; private set; } = "";

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts seedd and waits for its start-up line; fails with its output if it exits first.</summary>
    public static Task<SeeddProcess> StartAsync(params string[] args) => StartAsync(new Dictionary<string, string?>(), args);

    /// <summary>Starts seedd with extra environment variables (this process's own are left alone).</summary>
    public static Task<SeeddProcess> StartAsync(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        StartDllAsync(TestPaths.SeeddDll, environment, args);

    /// <summary>Starts seedd in <paramref name="workingDirectory"/> (what a user's shell would be in).</summary>
    public static Task<SeeddProcess> StartInAsync(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        StartDllAsync(TestPaths.SeeddDll, environment, args, workingDirectory);

    /// <summary>Starts another build of seedd (an earlier release, for migrations) from its seedd.dll.</summary>
    public static Task<SeeddProcess> StartDllAsync(string dll, IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        StartDllAsync(dll, environment, args, workingDirectory: null);

    private static async Task<SeeddProcess> StartDllAsync(string dll, IReadOnlyDictionary<string, string?> environment, string[] args, string? workingDirectory)
    {
        var seedd = Launch(dll, args, environment, workingDirectory);
        var exited = seedd._process.WaitForExitAsync();
        var first = await Task.WhenAny(seedd._listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != seedd._listening.Task)
        {
            await seedd.DisposeAsync();
            throw new InvalidOperationException($"seedd did not start. Output:\n{seedd.Output}");
        }

        seedd.Address = await seedd._listening.Task;
        return seedd;
    }

    /// <summary>Runs seedd expecting it to exit by itself (a start-up failure); returns its exit code and output.</summary>
    public static Task<(int ExitCode, string Output)> RunToExitAsync(params string[] args) => RunToExitAsync(new Dictionary<string, string?>(), args);

    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        await using var seedd = Launch(TestPaths.SeeddDll, args, environment);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await seedd._process.WaitForExitAsync(cts.Token);
        return (seedd._process.ExitCode, seedd.Output);
    }

    /// <summary>Starts seedd, waits until it writes <paramref name="text"/>, then kills it (SIGKILL) <paramref name="delay"/> later: a crash at that moment.</summary>
    public static async Task KillAfterOutputAsync(string text, TimeSpan delay, params string[] args)
    {
        await using var seedd = Launch(TestPaths.SeeddDll, args, new Dictionary<string, string?>());
        await seedd.WaitForOutputAsync(text);
        await Task.Delay(delay);
        if (!seedd._process.HasExited)
        {
            seedd._process.Kill();
        }

        await seedd._process.WaitForExitAsync();
    }

    /// <summary>
    /// Starts seedd and kills it (SIGKILL) as soon as <paramref name="moment"/> holds (polled every
    /// few milliseconds): a crash at that moment. False when seedd served, or exited, first.
    /// </summary>
    public static async Task<bool> KillWhenAsync(Func<Task<bool>> moment, params string[] args)
    {
        await using var seedd = Launch(TestPaths.SeeddDll, args, new Dictionary<string, string?>());
        while (!seedd._process.HasExited && !seedd._listening.Task.IsCompleted)
        {
            if (await moment())
            {
                seedd._process.Kill();
                await seedd._process.WaitForExitAsync();
                return true;
            }

            await Task.Delay(5);
        }

        return false;
    }

    /// <summary>Waits until seedd has written a line containing <paramref name="text"/>; returns that line.</summary>
    public async Task<string> WaitForOutputAsync(string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            if (Output.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"seedd did not write '{text}'. Output:\n{Output}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Sends SIGTERM and waits for a clean exit; returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan? timeout = null)
    {
        ProcessRunner.Signal(_process.Id, ProcessRunner.SigTerm);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static SeeddProcess Launch(string dll, string[] args, IReadOnlyDictionary<string, string?> environment, string? workingDirectory = null)
    {
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing; build the solution first.");
        }

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        // Replicas share one ledger key; without one seedd would generate it in the user's data directory.
        // An earlier release (built from history) has no ledger key and refuses the setting.
        if (dll == TestPaths.SeeddDll && args.Contains("--postgres") && !environment.ContainsKey("Seedd__Ledger__KeyFile") && !args.Contains("--ledger-key"))
        {
            start.Environment["Seedd__Ledger__KeyFile"] = TestLedgerKey.Path;
        }

        var seedd = new SeeddProcess(new Process { StartInfo = start });
        seedd._process.OutputDataReceived += (_, e) => seedd.OnLine(e.Data);
        seedd._process.ErrorDataReceived += (_, e) => seedd.OnLine(e.Data);
        seedd._process.Start();
        seedd._process.BeginOutputReadLine();
        seedd._process.BeginErrorReadLine();
        return seedd;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        var match = ListeningLine().Match(line);
        if (match.Success)
        {
            _listening.TrySetResult(match.Groups[1].Value);
        }
    }

    [GeneratedRegex(@"listening on (http://[^ ;,]+)")]
    private static partial Regex ListeningLine();
}
