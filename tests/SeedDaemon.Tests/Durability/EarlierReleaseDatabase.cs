namespace SeedDaemon.Tests.Durability;

/// <summary>
/// A database folder written once per test class by an earlier release of seedd (built from this
/// repository's history and run as a real process, see <see cref="SeeddFromHistory"/>): its files,
/// to copy into each test's folder or onto a simulated disk.
/// </summary>
public abstract class EarlierReleaseDatabase : IAsyncLifetime
{
    /// <summary>Where the release is built and writes its database; removed with the fixture.</summary>
    protected TempFolder Folder { get; } = new();

    /// <summary>The database's files (name, bytes) as the release left them.</summary>
    public Dictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Writes the files into <paramref name="folder"/>; returns the database's path there.</summary>
    public string CopyTo(string folder)
    {
        foreach (var (name, bytes) in Files)
        {
            File.WriteAllBytes(Path.Combine(folder, name), bytes);
        }

        return Path.Combine(folder, "seeds.db");
    }

    public abstract Task InitializeAsync();

    /// <summary>
    /// The power cut at every write of this database's migration, all three ways (<see cref="PowerCuts"/>):
    /// every reopened store holds the run "first" whole, and the migration wrote more than
    /// <paramref name="minimumWrites"/> times.
    /// </summary>
    public async Task PowerCutAtEveryWriteOfMigrationAsync(string name, int minimumWrites, Xunit.Abstractions.ITestOutputHelper output)
    {
        var folder = $"/sim/{name}/";
        var files = Files.ToDictionary(f => folder + f.Key, f => f.Value, StringComparer.Ordinal);
        var (writes, seed, failures) = await PowerCuts.AtEveryWriteOfOpenAsync(files, folder + "seeds.db", async store =>
            Assert.Contains("RunId = first", await PowerCuts.ContentsAsync(store), StringComparison.Ordinal));
        Assert.True(writes > minimumWrites, $"the migration wrote only {writes} times");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        output.WriteLine($"the migration writes {writes} times; cut at each, all three ways, each reopened whole (random seed {seed})");
    }

    public Task DisposeAsync()
    {
        Folder.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>Keeps every file of <paramref name="directory"/> (what the release left there) as <see cref="Files"/>.</summary>
    protected async Task KeepFilesAsync(string directory)
    {
        foreach (var file in Directory.GetFiles(directory))
        {
            Files[Path.GetFileName(file)] = await File.ReadAllBytesAsync(file);
        }
    }
}
