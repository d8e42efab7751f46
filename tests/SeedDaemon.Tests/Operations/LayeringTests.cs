using System.Text.RegularExpressions;

namespace SeedDaemon.Tests.Operations;

/// <summary>
/// The daemon's dependencies point one way (src/Daemon/README.md): Hosting wires everything and
/// nothing imports it; Grpc → Issuance, Audit (→ Transparency), Runs → Recording ← Storage; the core (Recording) imports no
/// other folder of the daemon. Read from the sources' using directives.
/// </summary>
public sealed partial class LayeringTests
{
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Recording"] = [],
        ["Storage"] = ["Recording"],
        ["Security"] = [],
        ["Operations"] = ["Recording"],
        ["Issuance"] = ["Recording", "Operations"],
        ["Transparency"] = ["Recording", "Issuance"],
        ["Audit"] = ["Recording", "Issuance", "Transparency"],
        ["Runs"] = ["Recording", "Issuance"],
        ["Grpc"] = ["Recording", "Issuance", "Audit", "Transparency", "Runs", "Security", "Operations"],
        ["Hosting"] = ["Recording", "Storage", "Security", "Operations", "Issuance", "Audit", "Transparency", "Runs", "Grpc"],
    };

    [Fact]
    public void Each_folder_imports_only_the_folders_below_it()
    {
        var daemon = Path.Combine(TestPaths.RepoRoot, "src", "Daemon");
        var violations = new List<string>();
        foreach (var file in Directory.EnumerateFiles(daemon, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal)))
        {
            var relative = Path.GetRelativePath(daemon, file);
            var folder = relative.Split(Path.DirectorySeparatorChar)[0];
            if (!Allowed.TryGetValue(folder, out var allowed))
            {
                continue;
            }

            foreach (Match use in Using().Matches(File.ReadAllText(file)))
            {
                var target = use.Groups[1].Value;
                if (target != folder && !allowed.Contains(target))
                {
                    violations.Add($"{relative} uses SeedDaemon.Daemon.{target}");
                }
            }
        }

        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [GeneratedRegex(@"^using SeedDaemon\.Daemon\.([A-Za-z]+)", RegexOptions.Multiline)]
    private static partial Regex Using();
}
