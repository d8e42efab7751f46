using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace SeedDaemon.Tests.Operations;

/// <summary>The systemd unit (verify, exposure), and sd_notify: READY, WATCHDOG, STOPPING.</summary>
public sealed partial class SystemdTests
{
    private static string Unit => Path.Combine(TestPaths.RepoRoot, "systemd", "seedd.service");

    [Fact]
    public async Task The_unit_verifies_and_its_exposure_is_at_most_2()
    {
        // verify checks that ExecStart exists: point it at the seedd this build made.
        using var folder = new TempFolder();
        var unit = folder.File("seedd.service");
        var apphost = Path.Combine(Path.GetDirectoryName(TestPaths.SeeddDll)!, "seedd");
        await File.WriteAllTextAsync(unit, (await File.ReadAllTextAsync(Unit)).Replace("/usr/lib/seedd/seedd", apphost, StringComparison.Ordinal));

        var verify = await ProcessRunner.RunAsync("systemd-analyze", ["verify", unit]);
        Assert.True(verify.ExitCode == 0, "systemd-analyze verify: " + verify.Stdout + verify.Stderr);

        var security = await ProcessRunner.RunAsync("systemd-analyze", ["security", "--offline=true", Unit]);
        var level = Exposure().Match(security.Stdout);
        Assert.True(level.Success, security.Stdout + security.Stderr);
        Assert.InRange(double.Parse(level.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 0.0, 2.0);
    }

    [Fact]
    public async Task READY_WATCHDOG_and_STOPPING_reach_the_notify_socket()
    {
        using var folder = new TempFolder();
        var path = folder.File("notify.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        var received = new List<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var listening = Task.Run(async () =>
        {
            var buffer = new byte[4096];
            while (!stop.IsCancellationRequested)
            {
                var count = await socket.ReceiveAsync(buffer, SocketFlags.None, stop.Token);
                lock (received)
                {
                    received.Add(Encoding.UTF8.GetString(buffer, 0, count));
                }
            }
        });

        var environment = new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = path, ["WATCHDOG_USEC"] = "400000" };
        await using (var seedd = await SeeddProcess.StartAsync(environment, "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db")))
        {
            await WaitFor(received, "READY=1");
            await Task.Delay(1000);
            lock (received)
            {
                Assert.True(received.Count(m => m == "WATCHDOG=1") >= 2, "expected watchdog pings every 200 ms: " + string.Join(" | ", received));
            }

            Assert.Equal(0, await seedd.StopAsync());
        }

        await WaitFor(received, "STOPPING=1");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listening);
        Assert.True(received.IndexOf("READY=1") < received.IndexOf("STOPPING=1"));
    }

    private static async Task WaitFor(List<string> received, string message)
    {
        for (var i = 0; i < 100; i++)
        {
            lock (received)
            {
                if (received.Contains(message))
                {
                    return;
                }
            }

            await Task.Delay(100);
        }

        Assert.Fail($"{message} never arrived; got: {string.Join(" | ", received)}");
    }

    [GeneratedRegex(@"Overall exposure level for \S+: ([0-9.]+)")]
    private static partial Regex Exposure();
}
