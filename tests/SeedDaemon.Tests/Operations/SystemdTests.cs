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
        var arrivals = new List<TimeSpan>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
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
                    arrivals.Add(clock.Elapsed);
                }
            }
        });

        var environment = new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = path, ["WATCHDOG_USEC"] = "400000" };
        await using (var seedd = await SeeddProcess.StartAsync(environment, "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db")))
        {
            await WaitFor(received, "READY=1");

            // WATCHDOG_USEC=400 ms asks for a ping every 200 ms. A loaded machine may delay a few, so
            // the test waits (up to 30 s) for twelve pings and checks the median gap between them: it
            // must stay under the watchdog interval, or systemd would restart a healthy daemon.
            List<TimeSpan> Pings()
            {
                lock (received)
                {
                    return received.Select((m, i) => (m, i)).Where(x => x.m == "WATCHDOG=1").Select(x => arrivals[x.i]).ToList();
                }
            }

            await Poll.UntilAsync(() => Pings().Count >= 12, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));

            var pings = Pings();
            Assert.True(pings.Count >= 12, "expected repeated watchdog pings: " + string.Join(" | ", received));
            var gaps = pings.Zip(pings.Skip(1), (a, b) => b - a).Order().ToList();
            Assert.True(gaps[gaps.Count / 2] < TimeSpan.FromMilliseconds(400), "median gap between pings: " + gaps[gaps.Count / 2]);

            Assert.Equal(0, await seedd.StopAsync());
        }

        await WaitFor(received, "STOPPING=1");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => listening);
        Assert.True(received.IndexOf("READY=1") < received.IndexOf("STOPPING=1"));
    }

    /// <summary>
    /// There is no init system here, so the test does what systemd does with the unit and the
    /// drop-in: the Environment= lines in order, %d the credentials directory holding the
    /// LoadCredential= file, ExecStart as written. What it proves: the unit names no store conflict
    /// (the embedded path is cleared in replicated mode), the password is only in the credential,
    /// and seedd started that way serves from PostgreSQL without printing the password.
    /// </summary>
    [Fact]
    public async Task The_unit_with_the_postgres_drop_in_runs_seedd_against_PostgreSQL_from_a_credential()
    {
        var unitText = await File.ReadAllTextAsync(Unit);
        var dropIn = await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "systemd", "postgres.conf"));
        Assert.DoesNotContain("Password=", unitText + dropIn, StringComparison.OrdinalIgnoreCase);

        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("systemd");
        using var folder = new TempFolder();
        var credentials = Directory.CreateDirectory(folder.File("credentials")).FullName;
        var credential = Lines(dropIn, "LoadCredential").Single().Split(':', 2);
        await File.WriteAllTextAsync(Path.Combine(credentials, credential[0]), cluster.ConnectionString(database) + "\n");

        var config = folder.File("appsettings.json");
        await File.WriteAllTextAsync(config, """{ "Seedd": { "Listen": "127.0.0.1:0" } }""");
        var environment = new Dictionary<string, string?>();
        foreach (var assignment in Lines(unitText, "Environment").Concat(Lines(dropIn, "Environment")))
        {
            var (name, value) = (assignment.Split('=', 2)[0], assignment.Split('=', 2)[1]);
            environment[name] = value.Replace("%d", credentials, StringComparison.Ordinal).Replace("/var/lib/seedd", folder.Path, StringComparison.Ordinal);
        }

        // What systemd sets for StateDirectory=seedd (/var/lib/seedd, here the test's folder).
        environment["STATE_DIRECTORY"] = folder.Path;
        var execStart = Lines(unitText, "ExecStart").Single().Split(' ');
        Assert.Equal("/usr/lib/seedd/seedd", execStart[0]);
        var args = execStart[1..].Select(a => a == "/etc/seedd/appsettings.json" ? config : a).ToArray();

        await using (var seedd = await SeeddProcess.StartAsync(environment, args))
        {
            Assert.Contains("store PostgreSQL host=", seedd.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(PostgresCluster.Password, seedd.Output, StringComparison.Ordinal);
            using var channel = TestChannels.Create(seedd.Address);
            var seeds = new SeedDaemon.V1.SeedService.SeedServiceClient(channel);
            await seeds.CreateExperimentAsync(new SeedDaemon.V1.CreateExperimentRequest { ExperimentId = "systemd/pg", Root = "9" });
            await seeds.GetSeedAsync(new SeedDaemon.V1.GetSeedRequest { ExperimentId = "systemd/pg", Worker = 1, Library = "torch" });
        }

        Assert.Equal(1L, await cluster.ScalarAsync<long>(database, "select count(*) from seedd_issued_seeds"));
        Assert.False(File.Exists(folder.File("seeds.db")), "replicated mode must not create the embedded database");
        Assert.True(File.Exists(folder.File("ledger.key")), "without a configured key, the unit's seedd keeps the one it generates in its state directory");

        // Without the drop-in the same unit runs the embedded store at its Environment= path.
        environment = Lines(unitText, "Environment").ToDictionary(a => a.Split('=', 2)[0], a => (string?)a.Split('=', 2)[1].Replace("/var/lib/seedd", folder.Path, StringComparison.Ordinal));
        environment["STATE_DIRECTORY"] = folder.Path;
        await using (var embedded = await SeeddProcess.StartAsync(environment, args))
        {
            Assert.Contains($"store {folder.File("seeds.db")}", embedded.Output, StringComparison.Ordinal);
        }
    }

    /// <summary>The values of every "Name=" line of a unit file, in order.</summary>
    private static IEnumerable<string> Lines(string unit, string name) =>
        unit.Split('\n').Where(l => l.StartsWith(name + "=", StringComparison.Ordinal)).Select(l => l[(name.Length + 1)..].Trim());

    private static async Task WaitFor(List<string> received, string message)
    {
        bool Arrived()
        {
            lock (received)
            {
                return received.Contains(message);
            }
        }

        await Poll.UntilAsync(Arrived, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        Assert.True(Arrived(), $"{message} never arrived; got: {string.Join(" | ", received)}");
    }

    [GeneratedRegex(@"Overall exposure level for \S+: ([0-9.]+)")]
    private static partial Regex Exposure();
}
