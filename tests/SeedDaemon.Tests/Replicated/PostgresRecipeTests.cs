using System.Globalization;
using System.Text.RegularExpressions;
using SeedDaemon.Derivation;

namespace SeedDaemon.Tests.Replicated;

/// <summary>
/// The manual's "Start PostgreSQL and three replicas on one machine", run as written (as root, as
/// it says): only its folder (/srv/seedd-pg) and its ports move to free ones, and the apt-get line,
/// which the test command has already run, is left out. Its first line once failed for every user
/// (initdb under runuser could not read the password from a process substitution).
/// </summary>
public sealed partial class PostgresRecipeTests
{
    [Fact]
    public async Task The_manuals_three_replica_recipe_runs_as_written()
    {
        var page = await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "docs", "operations.md"));
        var recipe = Recipe().Match(page);
        Assert.True(recipe.Success, "docs/operations.md has no three-replica recipe");

        using var folder = new TempFolder();
        var bin = Directory.CreateDirectory(folder.File("bin")).FullName;
        foreach (var (name, dll) in new[] { ("seedd", TestPaths.SeeddDll), ("seedctl", TestPaths.SeedctlDll) })
        {
            var wrapper = Path.Combine(bin, name);
            await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec dotnet \"{dll}\" \"$@\"\n");
            await ProcessRunner.RunAsync("chmod", ["755", wrapper]);
        }

        // /srv/seedd-pg must be a folder the postgres user can reach: the temp folder is root's own.
        var srv = $"/tmp/seedd-recipe-{Guid.NewGuid():N}";
        var pg = Ports.UnusedOutsideTheEphemeralRange().ToString(CultureInfo.InvariantCulture);
        var replicas = Enumerable.Range(0, 3).Select(_ => Ports.UnusedOutsideTheEphemeralRange().ToString(CultureInfo.InvariantCulture)).ToArray();
        var script = recipe.Groups[1].Value
            .Replace("/srv/seedd-pg", srv, StringComparison.Ordinal)
            .Replace("5433", pg, StringComparison.Ordinal)
            .Replace("50061", replicas[0], StringComparison.Ordinal)
            .Replace("50062", replicas[1], StringComparison.Ordinal)
            .Replace("50063", replicas[2], StringComparison.Ordinal);
        script = string.Join('\n', script.Split('\n').Where(l => !l.StartsWith("apt-get install", StringComparison.Ordinal)));
        var stop = $"kill $(jobs -p) 2>/dev/null; wait; runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D {srv}/data -m fast stop >/dev/null; rm -rf {srv}";
        try
        {
            var run = await ProcessRunner.RunAsync("bash", ["-c", $"set -e\ntrap '{stop}' EXIT\n{script}"], timeout: TimeSpan.FromMinutes(3),
                environment: new Dictionary<string, string>
                {
                    ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}",

                    // Were the recipe's shared key not used, the replicas would generate one in seedd's data directory: the test's folder's, not the user's.
                    ["XDG_DATA_HOME"] = folder.File("data"),
                });
            Assert.True(run.ExitCode == 0, $"the recipe failed ({run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
            var seed = SeedSeqV1.Derive(7, 0, "torch", "").Seed.ToString(CultureInfo.InvariantCulture);
            Assert.Matches($@"(?m)^0\s+torch\s+{seed}\s+64\s+1\s", run.Stdout);
            Assert.Contains($"store PostgreSQL host=127.0.0.1:{pg} database=postgres user=postgres", run.Stdout + run.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("change-me", run.Stdout + run.Stderr, StringComparison.Ordinal);

            // The three replicas sign with the key the recipe made (it printed its verifier key), none generated one.
            Assert.Matches(@"(?m)^seedd\.example\+[0-9a-f]{8}\+", run.Stdout);
            Assert.False(Directory.Exists(folder.File("data")), "a replica generated a ledger key of its own");
        }
        finally
        {
            await ProcessRunner.RunAsync("bash", ["-c", $"runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D {srv}/data -m immediate stop; rm -rf {srv}"]);
        }
    }

    [GeneratedRegex(@"\*\*Start PostgreSQL and three replicas on one machine\*\*.*?\n```sh[^\n]*\n(.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex Recipe();
}
