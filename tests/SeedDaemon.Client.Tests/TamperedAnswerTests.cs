using System.Diagnostics;

namespace SeedDaemon.Client.Tests;

/// <summary>
/// The SDKs' answer checks off the wire: a stand-in server of the same contract
/// (adversary_server.py, Python grpcio) answers the true seedseq-v1 seed altered one way, and the
/// real .NET and Python clients must refuse it. The honest mode proves they accept a true answer;
/// the slow one, that a client without retries still waits for it until its call's own deadline.
/// </summary>
public sealed class TamperedAnswerTests
{
    public static TheoryData<string> Lies => new() { "seed64", "seed", "width", "state", "scheme", "key" };

    [Fact]
    public async Task Both_SDKs_accept_the_honest_stand_in()
    {
        await using var adversary = await Adversary.StartAsync("honest");
        using var client = new SeedClient(new SeedClientOptions { Address = new Uri(adversary.Address), RetryTimeout = TimeSpan.Zero });
        var seed = await client.GetSeedAsync("adversary/x", 3, "numpy");
        Assert.Equal(SeedDaemon.Derivation.SeedSeqV1.Derive(20261202, 3, "numpy", "").Seed, seed.Seed);
        await client.GetBundleAsync("adversary/x", 3);

        var python = await PythonClientPackage.ScenarioAsync("tampering", adversary.Address);
        Assert.All(python.EnumerateObject(), o => Assert.Equal("accepted", o.Value.GetString()));
    }

    [Fact]
    public async Task Without_retries_both_SDKs_wait_for_a_slow_answer_until_the_calls_own_deadline()
    {
        await using var adversary = await Adversary.StartAsync("slow");
        var truth = SeedDaemon.Derivation.SeedSeqV1.Derive(20261202, 3, "numpy", "").Seed;
        using var client = new SeedClient(new SeedClientOptions { Address = new Uri(adversary.Address), RetryTimeout = TimeSpan.Zero });
        Assert.Equal(truth, (await client.GetSeedAsync("adversary/x", 3, "numpy")).Seed);

        var python = await PythonClientPackage.ScenarioAsync("no_retries", adversary.Address);
        Assert.Equal(truth, python.GetProperty("seed").GetUInt64());
    }

    [Theory]
    [MemberData(nameof(Lies))]
    public async Task Both_SDKs_refuse_a_tampered_answer(string lie)
    {
        await using var adversary = await Adversary.StartAsync(lie);
        using var client = new SeedClient(new SeedClientOptions { Address = new Uri(adversary.Address), RetryTimeout = TimeSpan.Zero });
        var single = await Assert.ThrowsAsync<SeedVerificationException>(() => client.GetSeedAsync("adversary/x", 3, "numpy"));
        Assert.Contains("worker 3, library 'numpy'", single.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SeedVerificationException>(() => client.GetBundleAsync("adversary/x", 3));

        var python = await PythonClientPackage.ScenarioAsync("tampering", adversary.Address);
        Assert.All(python.EnumerateObject(), o => Assert.StartsWith("refused: ", o.Value.GetString(), StringComparison.Ordinal));
    }

    private sealed class Adversary : IAsyncDisposable
    {
        private readonly Process _process;

        private Adversary(Process process, string address)
        {
            _process = process;
            Address = address;
        }

        public string Address { get; }

        public static async Task<Adversary> StartAsync(string mode)
        {
            var python = await PythonClientPackage.PythonAsync();
            var start = new ProcessStartInfo(python, [TestPaths.PythonScript("adversary_server.py"), mode])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var (key, value) in PythonClientPackage.Environment(python))
            {
                start.Environment[key] = value;
            }

            var process = Process.Start(start)!;
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"adversary_server.py did not start: {line}\n{await process.StandardError.ReadToEndAsync()}");
            }

            return new Adversary(process, $"http://127.0.0.1:{line["listening ".Length..]}");
        }

        public async ValueTask DisposeAsync()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill();
            }

            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
