using System.Security.Cryptography;

namespace SeedDaemon.Testing;

/// <summary>Every file of a directory (recursively) with its length and SHA-256: "nothing changed" byte for byte.</summary>
public sealed record DirectorySnapshot(IReadOnlyDictionary<string, string> Files)
{
    public static DirectorySnapshot Take(string directory) => new(
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .ToDictionary(
                file => Path.GetRelativePath(directory, file),
                file => $"{new FileInfo(file).Length} bytes, sha256 {Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)))}"));

    /// <summary>Asserts <paramref name="directory"/> holds exactly what this snapshot held.</summary>
    public void AssertUnchanged(string directory, string context)
    {
        var now = Take(directory);
        var differences = Files.Keys.Union(now.Files.Keys).Order(StringComparer.Ordinal)
            .Where(name => Files.GetValueOrDefault(name) != now.Files.GetValueOrDefault(name))
            .Select(name => $"{name}: was {Files.GetValueOrDefault(name) ?? "absent"}, now {now.Files.GetValueOrDefault(name) ?? "absent"}")
            .ToList();
        Assert.True(differences.Count == 0, $"{context} changed {directory}:\n{string.Join('\n', differences)}");
    }
}
