extern alias daemon;

using daemon::SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;

namespace SeedDaemon.Tests.Durability;

/// <summary>A damaged database is refused with its name and the reason, and left byte for byte as it was.</summary>
public sealed class DamagedFileTests
{
    private const string DatabasePath = "/sim/damaged/seeds.db";
    private const string LogPath = "/sim/damaged/seeds-log.db";

    [Fact]
    public async Task A_damaged_header_is_refused_and_left_untouched()
    {
        var disk = await DiskWithData();
        disk.Damage(DatabasePath, 0, new byte[64]);
        var before = disk.Snapshot();

        var error = Assert.Throws<StoreOpenException>(() => EmbeddedStore.Open(DatabasePath, disk, 16));
        Assert.Contains(DatabasePath, error.Message, StringComparison.Ordinal);
        Assert.Contains("not a LiteDB database or its header is damaged", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, disk.Snapshot());
    }

    [Fact]
    public async Task A_truncated_database_next_to_its_log_is_refused()
    {
        var disk = await DiskWithData(checkpoint: false);
        using (var truncate = disk.OpenExclusive(DatabasePath))
        {
            truncate.SetLength(0);
            truncate.Flush();
        }

        var before = disk.Snapshot();
        Assert.NotEmpty(before[LogPath]);
        var error = Assert.Throws<StoreOpenException>(() => EmbeddedStore.Open(DatabasePath, disk, 16));
        Assert.Contains("empty but its log is not", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, disk.Snapshot());
    }

    [Fact]
    public void A_database_in_another_storage_layout_is_refused_and_left_untouched()
    {
        using var folder = new TempFolder();
        var path = folder.File("seeds.db");
        using (var older = new LiteDB.LiteDatabase(new LiteDB.Engine.LiteEngine(new LiteDB.Engine.EngineSettings { Filename = path, Collation = LiteDB.Collation.Binary })))
        {
            // An issued seed as an earlier layout stored it (key fields in the document, no layout number).
            older.GetCollection("seeds").Insert(new LiteDB.BsonDocument { ["_id"] = "old/exp|00000001|torch|", ["e"] = "old/exp", ["v"] = 7L });
        }

        var before = DirectorySnapshot.Take(folder.Path);
        var error = Assert.Throws<StoreOpenException>(() => EmbeddedStore.Open(path, maxBatch: 16));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("storage layout 0", error.Message, StringComparison.Ordinal);
        Assert.Contains("written by another version of seedd", error.Message, StringComparison.Ordinal);
        before.AssertUnchanged(folder.Path, "a refused open of another layout");
    }

    private static async Task<SimulatedDisk> DiskWithData(bool checkpoint = true)
    {
        var disk = new SimulatedDisk();
        var store = EmbeddedStore.Open(DatabasePath, disk, 16);
        await store.CreateExperimentAsync(new ExperimentRecord("damaged/exp", 1, false, SeedSeqV1.Scheme, DateTime.UtcNow, false, new Dictionary<string, string>()), true, default);
        await store.RecordIssuesAsync([new SeedIssue(new SeedKey("damaged/exp", 1, "torch", ""), SeedSeqV1.Derive(1, 1, "torch", "").Seed64)], RequestOrigin.Anonymous("test"), default);
        if (checkpoint)
        {
            store.Dispose();
            return disk;
        }

        // Leave the log with data in it, as a crash would.
        return disk.CutPower(PowerCut.DiscardUnflushed, new Random(1));
    }
}
