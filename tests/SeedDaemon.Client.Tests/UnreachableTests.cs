using System.Diagnostics;
using System.Text.RegularExpressions;

namespace SeedDaemon.Client.Tests;

/// <summary>
/// A daemon nobody answers at: the samples say so in one line as soon as the first attempt fails,
/// retry for SEEDD_RETRY_TIMEOUT seconds, and then fail with UNAVAILABLE instead of hanging.
/// </summary>
public sealed class UnreachableTests
{
    private static readonly Dictionary<string, string> ThreeSeconds = new() { ["SEEDD_RETRY_TIMEOUT"] = "3" };

    [Fact]
    public async Task TorchWorker_says_once_that_seedd_is_not_answering_and_gives_up_after_the_retry_window()
    {
        using var refusing = Ports.Refusing();
        var address = refusing.Url;
        var clock = Stopwatch.StartNew();
        var run = await TorchWorkerProcess.RunAsync(ThreeSeconds, address, "unreachable/x", 1);
        clock.Stop();

        var output = run.Stdout + run.Stderr;
        Assert.NotEqual(0, run.ExitCode);
        Assert.Single(Regex.Matches(output, "is not answering"));
        Assert.Contains($"seedd at {address.TrimEnd('/')}", output, StringComparison.Ordinal);
        Assert.Contains("retrying for up to 3 s", output, StringComparison.Ordinal);
        Assert.Contains("Unavailable", output, StringComparison.OrdinalIgnoreCase);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(3) && clock.Elapsed < TimeSpan.FromSeconds(40), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task The_Python_sample_says_once_that_seedd_is_not_answering_and_gives_up_after_the_retry_window()
    {
        using var refusing = Ports.Refusing();
        var address = refusing.Url;
        var clock = Stopwatch.StartNew();
        var run = await PythonClientPackage.RunAsync(["-m", "seedd_client.sample", "--address", address, "--experiment", "unreachable/x", "--worker", "1"], ThreeSeconds);
        clock.Stop();

        Assert.NotEqual(0, run.ExitCode);
        Assert.Single(Regex.Matches(run.Stderr, "is not answering"));
        Assert.Contains("retrying for up to 3 s", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("UNAVAILABLE", run.Stderr, StringComparison.Ordinal);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(3) && clock.Elapsed < TimeSpan.FromSeconds(40), $"took {clock.Elapsed}");
    }
}
