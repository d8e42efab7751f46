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

    /// <summary>
    /// Found from outside: damage in a page that the start reads made LiteDB mark the file "invalid"
    /// (one byte of its header, so that a later open rebuilds it) on its way out of the refused start.
    /// Every page of a small database is damaged in turn (its header, and its middle), on real files, with the log as a clean stop
    /// leaves it: a refused start leaves every file of the folder byte for byte as it was.
    /// </summary>
    [Fact]
    public async Task A_refused_start_writes_nothing_whichever_page_is_damaged()
    {
        using var folder = new TempFolder();
        var pristine = folder.File("pristine");
        Directory.CreateDirectory(pristine);
        var store = EmbeddedStore.Open(Path.Combine(pristine, "seeds.db"), maxBatch: 16);
        await Fill(store, experiments: 40);
        store.Dispose();

        var data = await File.ReadAllBytesAsync(Path.Combine(pristine, "seeds.db"));
        var pages = data.Length / 8192;
        var refused = 0;
        foreach (var (page, within) in Enumerable.Range(0, pages).SelectMany(p => new[] { (p, 0), (p, 4000) }))
        {
            var trial = folder.File($"page-{page}-{within}");
            Directory.CreateDirectory(trial);
            foreach (var file in Directory.GetFiles(pristine))
            {
                File.Copy(file, Path.Combine(trial, Path.GetFileName(file)));
            }

            await using (var damage = new FileStream(Path.Combine(trial, "seeds.db"), FileMode.Open, FileAccess.Write))
            {
                damage.Position = (page * 8192L) + within;
                await damage.WriteAsync(Enumerable.Repeat((byte)0xA5, 64).ToArray());
            }

            var before = DirectorySnapshot.Take(trial);
            try
            {
                EmbeddedStore.Open(Path.Combine(trial, "seeds.db"), maxBatch: 16).Dispose();
                continue;
            }
            catch (StoreOpenException error)
            {
                Assert.Contains("seeds.db", error.Message, StringComparison.Ordinal);
                refused++;
            }

            before.AssertUnchanged(trial, $"a start refused for damage at byte {within} of page {page} of {pages}");
        }

        Assert.True(refused > 0, "no damaged page made the start refuse: the test damages nothing that is read");
    }

    /// <summary>
    /// A data file next to the log of another database (both seedd's, after a kill -9): LiteDB would
    /// read the other database's pages over this one's. Refused, every file as it was.
    /// </summary>
    [Fact]
    public async Task A_data_file_next_to_another_databases_log_is_refused_and_left_untouched()
    {
        using var folder = new TempFolder();
        var ours = Directory.CreateDirectory(folder.File("ours")).FullName;
        var store = EmbeddedStore.Open(Path.Combine(ours, "seeds.db"), maxBatch: 16);
        await Fill(store, experiments: 10);
        store.Dispose();

        // The other database, copied while it is open (as a kill -9 leaves it): its log holds its last commits.
        var theirs = Directory.CreateDirectory(folder.File("theirs")).FullName;
        var other = EmbeddedStore.Open(Path.Combine(theirs, "seeds.db"), maxBatch: 16, checkpoints: DamageOracle.NoCheckpoints);
        await Fill(other, experiments: 12);
        var copy = await ProcessRunner.RunAsync("cp", [Path.Combine(theirs, "seeds-log.db"), Path.Combine(ours, "seeds-log.db")]);
        Assert.True(copy.ExitCode == 0, copy.Stderr);
        other.Dispose();

        var before = DirectorySnapshot.Take(ours);
        var error = Assert.Throws<StoreOpenException>(() => EmbeddedStore.Open(Path.Combine(ours, "seeds.db"), maxBatch: 16).Dispose());
        Assert.Contains("seeds-log.db", error.Message, StringComparison.Ordinal);
        before.AssertUnchanged(ours, "a start refused over a foreign log");
    }

    /// <summary>
    /// A file LiteDB marked "invalid" (byte 191 of its header: what LiteDB writes when it fails to
    /// read a page, so that its next open rebuilds the file): seedd never lets LiteDB rebuild it.
    /// </summary>
    [Fact]
    public async Task A_file_marked_invalid_by_LiteDB_is_refused_and_never_rebuilt()
    {
        using var folder = new TempFolder();
        var path = folder.File("seeds.db");
        var store = EmbeddedStore.Open(path, maxBatch: 16);
        await Fill(store, experiments: 5);
        store.Dispose();
        await using (var mark = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            mark.Position = 191;
            mark.WriteByte(1);
        }

        var before = DirectorySnapshot.Take(folder.Path);
        var error = Assert.Throws<StoreOpenException>(() => EmbeddedStore.Open(path, maxBatch: 16).Dispose());
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        before.AssertUnchanged(folder.Path, "a start refused on a file marked invalid");
    }

    private static async Task Fill(SeedStore store, int experiments)
    {
        for (var i = 0; i < experiments; i++)
        {
            var id = i == 0 ? "damaged/exp" : $"damaged/exp-{i}";
            await store.CreateExperimentAsync(new ExperimentRecord(id, 1, false, SeedSeqV1.Scheme, DateTime.UtcNow, false, new Dictionary<string, string>()), true, default);
            await store.RecordIssuesAsync([.. Enumerable.Range(0, i == 0 ? 1 : 50).Select(w => new SeedIssue(new SeedKey(id, (uint)w + 1, "torch", ""), SeedSeqV1.Derive(1, (uint)w + 1, "torch", "").Seed64))], RequestOrigin.Anonymous("test"), default);
        }
    }

    private static async Task<SimulatedDisk> DiskWithData(bool checkpoint = true)
    {
        var disk = new SimulatedDisk();
        var store = EmbeddedStore.Open(DatabasePath, disk, 16);
        await Fill(store, experiments: 1);

        if (checkpoint)
        {
            store.Dispose();
            return disk;
        }

        // Leave the log with data in it, as a crash would.
        return disk.CutPower(PowerCut.DiscardUnflushed, new Random(1));
    }
}
