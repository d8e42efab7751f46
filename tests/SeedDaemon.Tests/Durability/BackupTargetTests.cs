extern alias daemon;

using System.Globalization;
using Grpc.Core;
using Grpc.Health.V1;
using daemon::SeedDaemon.Daemon.Hosting;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// A backup's target is the client's choice, so what goes wrong there is the client's to fix: the
/// answer names the target, nothing is left there, and the seed database is not touched: it stays
/// open, SERVING, and byte for byte as it was.
/// </summary>
public sealed class BackupTargetTests
{
    private const string Database = "/sim/db/seeds.db";
    private const string Backups = "/sim/backups";

    [Fact]
    public async Task A_target_disk_that_fills_up_is_RESOURCE_EXHAUSTED_naming_the_target_and_the_database_serves_on()
    {
        var disk = new SimulatedDisk();
        await using var seedd = await StartAsync(disk);
        using var channel = TestChannels.Create(seedd.Addresses[0]);
        var (seeds, admin) = await IssueSomeAsync(channel);
        disk.CreateDirectory(Backups);
        var first = await admin.CreateBackupAsync(new CreateBackupRequest { Path = $"{Backups}/first.db" });
        Assert.Equal(disk.FileLength(Database), first.SizeBytes);

        var before = disk.Snapshot();
        disk.Capacity = disk.UsedBytes + 4096;
        var error = await RpcAssert.FailsWith(StatusCode.ResourceExhausted, async () =>
            await admin.CreateBackupAsync(new CreateBackupRequest { Path = $"{Backups}/second.db" }));
        Assert.Contains($"The disk of backup target {Backups}/second.db is full: the copy needs {first.SizeBytes.ToString("N0", CultureInfo.InvariantCulture)} bytes; the partial copy was removed. The seed database is unaffected", error.Status.Detail, StringComparison.Ordinal);
        Assert.False(disk.FileExists($"{Backups}/second.db.partial"));
        Assert.False(disk.FileExists($"{Backups}/second.db"));

        await AssertUntouchedAsync(disk, before, channel);
        disk.Capacity = null;
        await AssertServesAsync(seeds, channel);
    }

    [Fact]
    public async Task A_target_directory_seedd_may_not_write_is_FAILED_PRECONDITION_naming_the_target()
    {
        var disk = new SimulatedDisk();
        await using var seedd = await StartAsync(disk);
        using var channel = TestChannels.Create(seedd.Addresses[0]);
        var (seeds, admin) = await IssueSomeAsync(channel);
        disk.MakeUnwritable("/sim/readonly");

        // The first backup checkpoints the database; compare from there.
        disk.CreateDirectory(Backups);
        await admin.CreateBackupAsync(new CreateBackupRequest { Path = $"{Backups}/first.db" });
        var before = disk.Snapshot();
        var error = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, async () =>
            await admin.CreateBackupAsync(new CreateBackupRequest { Path = "/sim/readonly/copy.db" }));
        Assert.Contains("seedd cannot write backup target /sim/readonly/copy.db (Access to the path '/sim/readonly/copy.db.partial' is denied.)", error.Status.Detail, StringComparison.Ordinal);

        await AssertUntouchedAsync(disk, before, channel);
        await AssertServesAsync(seeds, channel);
    }

    [Fact]
    public async Task On_a_real_disk_a_target_that_cannot_be_created_or_a_leftover_partial_copy_is_refused_and_the_database_serves_on()
    {
        using var folder = new TempFolder();
        await using var seedd = await QuietSeedd.StartAsync(folder.File("seeds.db"));
        using var channel = TestChannels.Create(seedd.Addresses[0]);
        var (seeds, admin) = await IssueSomeAsync(channel);

        // procfs: the directory exists and no file can be created in it, not even by root.
        var proc = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, async () =>
            await admin.CreateBackupAsync(new CreateBackupRequest { Path = "/proc/seedd-backup.db" }));
        Assert.Contains("seedd cannot write backup target /proc/seedd-backup.db", proc.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest())).Status);

        var leftover = folder.File("copy.db.partial");
        await File.WriteAllTextAsync(leftover, "an earlier copy");
        var exists = await RpcAssert.FailsWith(StatusCode.AlreadyExists, async () =>
            await admin.CreateBackupAsync(new CreateBackupRequest { Path = folder.File("copy.db") }));
        Assert.Contains($"{leftover} already exists", exists.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("an earlier copy", await File.ReadAllTextAsync(leftover));
        Assert.False(File.Exists(folder.File("copy.db")));

        await AssertServesAsync(seeds, channel);
        var copy = await admin.CreateBackupAsync(new CreateBackupRequest { Path = folder.File("other.db") });
        Assert.Equal(new FileInfo(folder.File("other.db")).Length, copy.SizeBytes);
    }

    [Fact]
    public async Task A_backup_into_a_directory_that_does_not_exist_is_FAILED_PRECONDITION_naming_it()
    {
        using var folder = new TempFolder();
        await using var seedd = await QuietSeedd.StartAsync(folder.File("seeds.db"));
        using var channel = TestChannels.Create(seedd.Addresses[0]);
        var missing = folder.File("no-such-dir/copy.db");
        var error = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, async () =>
            await new AdminService.AdminServiceClient(channel).CreateBackupAsync(new CreateBackupRequest { Path = missing }));
        Assert.Contains(folder.File("no-such-dir"), error.Status.Detail, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder.File("no-such-dir")));
    }

    [Fact]
    public async Task The_databases_own_files_are_refused_as_targets_even_the_log_before_it_exists()
    {
        using var folder = new TempFolder();
        var database = folder.File("seeds.db");
        var log = folder.File("seeds-log.db");
        await (await QuietSeedd.StartAsync(database)).DisposeAsync();

        // An empty log left by a clean stop is no log at all; LiteDB creates it again on its first write.
        File.Delete(log);
        await using var seedd = await QuietSeedd.StartAsync(database);
        using var channel = TestChannels.Create(seedd.Addresses[0]);
        var admin = new AdminService.AdminServiceClient(channel);
        Assert.False(File.Exists(log));
        foreach (var own in new[] { log, database })
        {
            var error = await RpcAssert.FailsWith(StatusCode.InvalidArgument, async () =>
                await admin.CreateBackupAsync(new CreateBackupRequest { Path = own }));
            Assert.Contains($"backup target {own} is a file of the seed database itself", error.Status.Detail, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(log));
        var (seeds, _) = await IssueSomeAsync(channel);
        await AssertServesAsync(seeds, channel);
    }

    /// <summary>
    /// A backup into a directory reached through a symbolic link that points at the database's own
    /// directory, named as its log (which does not exist yet): the copy would become the log, and
    /// LiteDB would read it as one at the next open.
    /// </summary>
    [Fact]
    public async Task A_target_reached_through_a_symlinked_directory_that_is_the_databases_own_is_refused()
    {
        using var folder = new TempFolder();
        var data = Directory.CreateDirectory(folder.File("data")).FullName;
        var database = Path.Combine(data, "seeds.db");
        var log = Path.Combine(data, "seeds-log.db");
        await (await QuietSeedd.StartAsync(database)).DisposeAsync();
        File.Delete(log);
        var link = folder.File("backups");
        Directory.CreateSymbolicLink(link, data);
        await using var seedd = await QuietSeedd.StartAsync(database);
        using var channel = TestChannels.Create(seedd.Addresses[0]);
        var admin = new AdminService.AdminServiceClient(channel);
        var before = Directory.GetFiles(data).Order(StringComparer.Ordinal).ToList();

        foreach (var own in new[] { Path.Combine(link, "seeds-log.db"), Path.Combine(link, ".", "seeds-log.db") })
        {
            var error = await RpcAssert.FailsWith(StatusCode.InvalidArgument, async () =>
                await admin.CreateBackupAsync(new CreateBackupRequest { Path = own }));
            Assert.Contains("is a file of the seed database itself", error.Status.Detail, StringComparison.Ordinal);
        }

        Assert.Equal(before, Directory.GetFiles(data).Order(StringComparer.Ordinal).ToList());
        Assert.False(File.Exists(log));

        // Another name in the same directory, through the link, is a backup like any other.
        var copy = await admin.CreateBackupAsync(new CreateBackupRequest { Path = Path.Combine(link, "copy.db") });
        Assert.True(File.Exists(Path.Combine(data, "copy.db")), copy.Path);
    }

    private static Task<RunningSeedd> StartAsync(SimulatedDisk disk) => QuietSeedd.StartAsync(Database, disk);

    private static async Task<(SeedService.SeedServiceClient Seeds, AdminService.AdminServiceClient Admin)> IssueSomeAsync(ChannelBase channel)
    {
        var seeds = new SeedService.SeedServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "backup/exp", Root = "11" });
        var batch = new BatchGetSeedsRequest();
        for (uint worker = 0; worker < 200; worker++)
        {
            batch.Requests.Add(new GetSeedRequest { ExperimentId = "backup/exp", Worker = worker, Library = "torch" });
        }

        await seeds.BatchGetSeedsAsync(batch);
        return (seeds, new AdminService.AdminServiceClient(channel));
    }

    /// <summary>Nothing of the failed copy is left, the database's files are as they were, and it is still open.</summary>
    private static async Task AssertUntouchedAsync(SimulatedDisk disk, IReadOnlyDictionary<string, string> before, ChannelBase channel)
    {
        Assert.Equal(before, disk.Snapshot());
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    private static async Task AssertServesAsync(SeedService.SeedServiceClient seeds, ChannelBase channel)
    {
        var next = await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "backup/exp", Worker = 500, Library = "torch" });
        Assert.Equal(1ul, next.IssueCount);
        var ledger = await new AuditService.AuditServiceClient(channel).VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = "backup/exp" });
        Assert.True(ledger.Ok, ledger.Reason);
        Assert.Equal(201ul, ledger.EventsChecked);
    }
}
