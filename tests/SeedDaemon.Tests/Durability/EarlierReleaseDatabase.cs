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
