using System.Text.RegularExpressions;

namespace SeedDaemon.Tests.Operations;

/// <summary>
/// The README and the manual (docs/) cannot drift from the product: their transcripts are replayed
/// against a fresh daemon (tests/readme/transcripts.py), and the options and verbs they list are
/// the ones --help lists.
/// </summary>
public sealed partial class ReadmeTests
{
    /// <summary>The README and every page of the manual, one after the other.</summary>
    private static string Readme => string.Join("\n\n", Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "docs"), "*.md").Order(StringComparer.Ordinal)
        .Prepend(Path.Combine(TestPaths.RepoRoot, "README.md"))
        .Select(File.ReadAllText));

    [Fact]
    public async Task Every_transcript_in_the_README_and_the_manual_replays_with_the_same_output()
    {
        var script = Path.Combine(TestPaths.RepoRoot, "tests", "readme", "transcripts.py");
        var replay = await ProcessRunner.RunAsync(Python.Interpreter, [script], timeout: TimeSpan.FromMinutes(8));
        Assert.True(replay.ExitCode == 0, replay.Stdout + replay.Stderr);
        Assert.Contains("every page matches", replay.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Seedd_help_lists_every_option_the_README_names()
    {
        var paragraph = Readme[Readme.IndexOf("`seedd --help` lists the options", StringComparison.Ordinal)..];
        paragraph = paragraph[..paragraph.IndexOf("\n\n", StringComparison.Ordinal)];
        var options = Option().Matches(paragraph).Select(m => m.Value).Distinct().ToList();
        Assert.True(options.Count >= 5, paragraph);

        var (_, help) = await SeeddProcess.RunToExitAsync("--help");
        Assert.All(options, option => Assert.Contains(option, help, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Seedctl_help_lists_every_verb_and_option_of_the_READMEs_table()
    {
        var table = Readme[Readme.IndexOf("| verb | does |", StringComparison.Ordinal)..];
        var rows = table.Split('\n').Skip(2).TakeWhile(l => l.StartsWith('|')).Select(l => l.Split('`')[1]).ToList();
        Assert.True(rows.Count >= 9, table[..200]);

        var top = await Seedctl.RunAsync("--help");
        var checkedCommands = 0;
        foreach (var row in rows)
        {
            var verb = row.Split(' ')[0];
            Assert.Contains(verb, top.Stdout, StringComparison.Ordinal);

            // "experiments list\|show ID\|create ID [--root R]": subcommands, each with its own options;
            // a "\|" between options ("[--worker N \| --worker-min]") continues the same command.
            string[] command = [verb];
            foreach (var phrase in row[verb.Length..].Split("\\|"))
            {
                var first = phrase.Trim().Split(' ')[0];
                if (Subcommand().IsMatch(first))
                {
                    command = [verb, first];
                }

                var help = await Seedctl.RunAsync([.. command, "--help"]);
                Assert.True(help.ExitCode == 0, $"seedctl {string.Join(' ', command)} --help: {help.Stderr}");
                foreach (Match option in Option().Matches(phrase))
                {
                    Assert.True(help.Stdout.Contains(option.Value, StringComparison.Ordinal), $"the README gives seedctl {string.Join(' ', command)} {option.Value}, its --help does not:\n{help.Stdout}");
                }

                checkedCommands++;
            }
        }

        Assert.True(checkedCommands >= 14);
    }

    [GeneratedRegex(@"(?<![\w-])--?[a-z][a-z-]*")]
    private static partial Regex Option();

    [GeneratedRegex("^[a-z][a-z-]*$")]
    private static partial Regex Subcommand();
}
