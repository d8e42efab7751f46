using System.Globalization;
using System.Text;
using Npgsql;

namespace SeedDaemon.Testing;

/// <summary>
/// A real PostgreSQL 15 server of the test's own (Debian's postgresql-15): initdb in a temporary
/// folder, listening on a loopback port, password authentication over TCP, stopped and removed
/// afterwards. initdb and pg_ctl refuse to run as root, so as root they run as the postgres user.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    public const string BinDirectory = "/usr/lib/postgresql/15/bin";
    public const string Password = "seedd-test-secret";

    private static readonly Lazy<Task<PostgresCluster>> SharedCluster = new(async () =>
    {
        var cluster = await StartAsync();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return cluster;
    });

    private readonly string _folder;

    private PostgresCluster(string folder, int port)
    {
        _folder = folder;
        Port = port;
    }

    /// <summary>One server for the whole test run; each test takes a database of its own (<see cref="CreateDatabaseAsync"/>).</summary>
    public static Task<PostgresCluster> SharedAsync() => SharedCluster.Value;

    public int Port { get; private set; }

    public string DataDirectory => Path.Combine(_folder, "data");

    public string LogFile => Path.Combine(_folder, "server.log");

    /// <summary>initdb, configure, start. <paramref name="extraSettings"/> are appended to postgresql.conf.</summary>
    public static async Task<PostgresCluster> StartAsync(string extraSettings = "")
    {
        if (!File.Exists(Path.Combine(BinDirectory, "initdb")))
        {
            throw new InvalidOperationException($"{BinDirectory}/initdb is missing: install Debian's postgresql-15 (tests/run-all.sh does, as root).");
        }

        var cluster = new PostgresCluster(NewFolder("seedd-pg-"), Ports.UnusedOutsideTheEphemeralRange());
        await File.WriteAllTextAsync(Path.Combine(cluster._folder, "password"), Password);
        await cluster.AsPostgresAsync("initdb", "-D", cluster.DataDirectory, "--username=postgres", $"--pwfile={Path.Combine(cluster._folder, "password")}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync");
        await cluster.ConfigureAsync(extraSettings);
        await cluster.StartAgainAsync();
        return cluster;
    }

    /// <summary>A new database (and its name) for one test.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "seedd")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 60)];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return name;
    }

    public string ConnectionString(string database, string user = "postgres", string password = Password) =>
        $"Host=127.0.0.1;Port={Port};Username={user};Password={password};Database={database};Timeout=5";

    /// <summary>Runs SQL as the superuser against a database.</summary>
    public async Task ExecuteAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>
    /// How many of seedd's sessions on <paramref name="database"/> wait for a lock (one a test holds,
    /// or another session's). Only that database's: other tests share the server.
    /// </summary>
    public Task<long> SeeddWaitingOnLocksAsync(string database) =>
        ScalarAsync<long>(database, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'seedd' AND wait_event_type = 'Lock' AND datname = current_database()");

    public Task StartAgainAsync() => AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "start");

    public Task StopAsync() => AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-w", "-t", "60", "-m", "fast", "stop");

    /// <summary>
    /// The server dies as a machine crash takes it: every one of its processes is stopped at the same
    /// moment (SIGSTOP), so none writes or sends another byte, then killed. (SIGKILL of the postmaster
    /// alone lets its WAL writer and WAL sender run on long enough to flush and ship what they hold.)
    /// </summary>
    public void Kill()
    {
        var processes = Processes().Select(p => p.Pid).ToList();
        foreach (var pid in processes)
        {
            ProcessRunner.TrySignal(pid, 19);
        }

        foreach (var pid in processes)
        {
            ProcessRunner.TrySignal(pid, 9);
        }
    }

    /// <summary>
    /// Stops this primary's WAL sender (SIGSTOP) until the returned handle is disposed: its WAL is not
    /// shipped meanwhile, so a commit that waits for the standby cannot complete.
    /// </summary>
    public IDisposable PauseWalSender()
    {
        var sender = Processes().Single(p => p.Command.Contains("walsender", StringComparison.Ordinal)).Pid;
        ProcessRunner.Signal(sender, 19);
        return new Resume(sender);
    }

    /// <summary>The postmaster and its children, with their command lines.</summary>
    private List<(int Pid, string Command)> Processes()
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        var processes = new List<(int, string)> { (postmaster, "postmaster") };
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                var text = File.ReadAllText(Path.Combine(folder, "stat"));
                var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == postmaster)
                {
                    var command = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' ');
                    processes.Add((int.Parse(text[..text.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture), command));
                }
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException)
            {
                // Not a process, or gone already.
            }
        }

        return processes;
    }

    private sealed class Resume(int pid) : IDisposable
    {
        public void Dispose() => ProcessRunner.TrySignal(pid, 18);
    }

    /// <summary>A hot standby streaming from this server (pg_basebackup -R -X stream -C -S), started on a port of its own.</summary>
    public async Task<PostgresCluster> CreateStandbyAsync(string slot)
    {
        var standby = new PostgresCluster(NewFolder("seedd-pg-standby-"), Ports.UnusedOutsideTheEphemeralRange());
        await standby.AsPostgresAsync(new Dictionary<string, string> { ["PGPASSWORD"] = Password },
            "pg_basebackup", "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", "postgres", "-D", standby.DataDirectory, "-R", "-X", "stream", "-C", "-S", slot, "--checkpoint=fast");
        await standby.ConfigureAsync($"cluster_name = '{slot}'\n");
        await standby.StartAgainAsync();
        return standby;
    }

    public Task PromoteAsync() => AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-w", "-t", "60", "promote");

    public async ValueTask DisposeAsync()
    {
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            try
            {
                await AsPostgresAsync("pg_ctl", "-D", DataDirectory, "-w", "-t", "30", "-m", "immediate", "stop");
            }
            catch (InvalidOperationException)
            {
                // Already gone (killed by the test).
            }
        }

        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A server process still closing files; the OS cleans /tmp.
        }
    }

    private async Task ConfigureAsync(string extraSettings)
    {
        var settings = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"port = {Port}")
            .AppendLine("listen_addresses = '127.0.0.1'")
            .AppendLine(CultureInfo.InvariantCulture, $"unix_socket_directories = '{_folder}'")
            .AppendLine("max_connections = 300")
            .AppendLine("shared_buffers = 32MB")
            .AppendLine("fsync = on")
            .AppendLine("synchronous_commit = on")
            .AppendLine("wal_level = replica")
            .AppendLine("max_wal_senders = 5")
            .AppendLine("max_replication_slots = 5")
            .AppendLine("hot_standby = on")
            .Append(extraSettings);
        var path = Path.Combine(DataDirectory, "postgresql.conf");
        await File.AppendAllTextAsync(path, settings.ToString());
        await Chown(path);
    }

    private Task AsPostgresAsync(string program, params string[] args) => AsPostgresAsync(new Dictionary<string, string>(), program, args);

    private async Task AsPostgresAsync(Dictionary<string, string> environment, string program, params string[] args)
    {
        var binary = Path.Combine(BinDirectory, program);
        var root = Environment.UserName == "root";
        var result = root
            ? await ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", "env", .. environment.Select(e => $"{e.Key}={e.Value}"), binary, .. args], timeout: TimeSpan.FromMinutes(2))
            : await ProcessRunner.RunAsync(binary, args, timeout: TimeSpan.FromMinutes(2), environment: environment);
        if (result.ExitCode != 0)
        {
            var log = File.Exists(LogFile) ? await File.ReadAllTextAsync(LogFile) : "";
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {result.ExitCode}: {result.Stderr}{result.Stdout}\nserver log:\n{log}");
        }
    }

    private static string NewFolder(string prefix)
    {
        var folder = Directory.CreateTempSubdirectory(prefix).FullName;
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("the PostgreSQL tests run Debian's postgresql-15");
        }

        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        Chown(folder).GetAwaiter().GetResult();
        return folder;
    }

    private static async Task Chown(string path)
    {
        if (Environment.UserName == "root")
        {
            var result = await ProcessRunner.RunAsync("chown", ["postgres:postgres", path]);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"chown postgres {path} failed (is the postgres user there? Debian's postgresql-15 creates it): {result.Stderr}");
            }
        }
    }

}
