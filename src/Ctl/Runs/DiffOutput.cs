using System.Globalization;
using System.Text;
using SeedDaemon.Ctl.Verbs;

namespace SeedDaemon.Ctl.Runs;

/// <summary>runs diff --output json: the verdict and the first divergence as fields.</summary>
public static class DiffJson
{
    public static object Of(RunDiff diff, IReadOnlyList<ConflictLine> conflicts) => new Dictionary<string, object?>
    {
        ["experiment_a"] = diff.A.ExperimentId,
        ["run_a"] = diff.A.RunId,
        ["experiment_b"] = diff.B.ExperimentId,
        ["run_b"] = diff.B.RunId,
        ["from_step"] = diff.FromStep,
        ["equal"] = diff.Equal && !diff.NothingCompared,
        ["nothing_compared"] = diff.NothingCompared,
        ["common_steps"] = diff.CommonSteps,
        ["compared_cells"] = diff.ComparedCells,
        ["differing_cells"] = diff.DifferingCells,
        ["differing_steps"] = diff.DifferingSteps,
        ["first_divergence"] = diff.First is not { } first ? null : new Dictionary<string, object?>
        {
            ["step"] = first.Step,
            ["cause"] = first.Cause,
            ["workers"] = first.Workers.Select(w => w.Worker).ToList(),
            ["explanation"] = first.Explanation,
            ["digests"] = first.Workers.SelectMany(w => w.Digests.Select(d => new Dictionary<string, object?>
            {
                ["worker"] = w.Worker,
                ["name"] = d.Name,
                ["kind"] = DigestText.Kind(d.Kind),
                ["a"] = DigestText.Value(d.Kind, d.A),
                ["b"] = DigestText.Value(d.Kind, d.B),
                ["previous_equal_step"] = w.PreviousEqualStep,
            })).ToList(),
        },
        ["environment_differences"] = diff.EnvironmentDifferences(diff.First?.Workers.Select(w => w.Worker))
            .Select(e => new Dictionary<string, object> { ["worker"] = e.Worker, ["key"] = e.Key, ["a"] = e.A, ["b"] = e.B }).ToList(),
        ["coverage"] = new Dictionary<string, object>
        {
            ["only_in_a"] = Coverage(diff.OnlyInA),
            ["only_in_b"] = Coverage(diff.OnlyInB),
            ["processes_only_in_a"] = diff.A.Processes.Keys.Except(diff.B.Processes.Keys).Order().ToList(),
            ["processes_only_in_b"] = diff.B.Processes.Keys.Except(diff.A.Processes.Keys).Order().ToList(),
        },
        ["conflicts"] = conflicts.Select(c => new Dictionary<string, object> { ["run"] = c.RunId, ["worker"] = c.Worker, ["step"] = c.Step, ["names"] = c.Names }).ToList(),
    };

    private static List<Dictionary<string, object>> Coverage(IReadOnlyDictionary<uint, (long Cells, long First, long Last)> side) =>
        side.Select(p => new Dictionary<string, object> { ["worker"] = p.Key, ["steps"] = p.Value.Cells, ["first_step"] = p.Value.First, ["last_step"] = p.Value.Last }).ToList();
}

/// <summary>runs diff for people: the verdict first, then what backs it.</summary>
public static class DiffText
{
    public static Output.Table Table(RunDiff diff, IReadOnlyList<ConflictLine> conflicts, FileInfo? html)
    {
        var lines = new Output.Table("RUNS DIFF", $"{Name(diff.A, diff.B)} vs {Name(diff.B, diff.A)}, from step {diff.FromStep}");
        if (diff.First is { } first)
        {
            lines.Add("verdict", $"DIVERGED at step {first.Step} ({first.Cause})");
            lines.Add("why", first.Explanation);
            foreach (var (worker, _, digests) in first.Workers.Take(20))
            {
                foreach (var d in digests)
                {
                    lines.Add($"worker {worker}", $"{d.Name} ({DigestText.Kind(d.Kind)}): {DigestText.Value(d.Kind, d.A)} vs {DigestText.Value(d.Kind, d.B)}");
                }
            }

            if (first.Workers.Count > 20)
            {
                lines.Add("", $"... and {first.Workers.Count - 20} more workers");
            }
        }
        else if (diff.NothingCompared)
        {
            lines.Add("verdict", $"NOTHING COMPARED: no process recorded a step in both runs from step {diff.FromStep} on (see coverage; --from-step moves the start)");
        }
        else
        {
            // Equal where both recorded; a process or steps only one run has are not compared, and the verdict says so.
            var partial = diff.OnlyInA.Count > 0 || diff.OnlyInB.Count > 0 || !diff.A.Processes.Keys.ToHashSet().SetEquals(diff.B.Processes.Keys)
                ? ", but some steps are in one run only (see coverage)" : "";
            lines.Add("verdict", $"EQUAL over {diff.CommonSteps} common steps{partial}");
        }

        lines.Add("compared", string.Create(CultureInfo.InvariantCulture, $"{diff.ComparedCells} cells over {diff.CommonSteps} steps: {diff.ComparedCells - diff.DifferingCells} equal, {diff.DifferingCells} differ ({diff.DifferingSteps} steps)"));
        foreach (var e in diff.EnvironmentDifferences(diff.First?.Workers.Select(w => w.Worker)).Take(30))
        {
            lines.Add($"environment", $"worker {e.Worker} {e.Key}: {e.A} vs {e.B}");
        }

        lines.Add("coverage", $"{Coverage(diff.OnlyInA)} only in {diff.A.RunId}; {Coverage(diff.OnlyInB)} only in {diff.B.RunId}");
        foreach (var (side, other) in new[] { (diff.A, diff.B), (diff.B, diff.A) })
        {
            // A process that never fingerprinted a step from the first compared one on has no cell to show.
            var silent = side.Processes.Keys.Except(other.Processes.Keys).Where(w => !(side == diff.A ? diff.OnlyInA : diff.OnlyInB).ContainsKey(w)).Order().ToList();
            if (silent.Count > 0)
            {
                lines.Add("coverage", $"worker{(silent.Count > 1 ? "s" : "")} {string.Join(", ", silent.Take(20))}{(silent.Count > 20 ? ", ..." : "")} recorded in {side.RunId} only, with no step compared");
            }
        }
        foreach (var c in conflicts.Take(10))
        {
            lines.Add("conflict", $"run {c.RunId} worker {c.Worker} step {c.Step} was reported twice with other {string.Join(", ", c.Names)} (the first kept)");
        }

        if (conflicts.Count > 10)
        {
            lines.Add("", $"... and {conflicts.Count - 10} more conflicts (--output json gives every one listed)");
        }

        if (html is not null)
        {
            lines.Add("report", html.FullName);
        }

        return lines;
    }

    private static string Name(RunSide side, RunSide other) => side.ExperimentId == other.ExperimentId ? side.RunId : $"{side.ExperimentId}/{side.RunId}";

    private static string Coverage(IReadOnlyDictionary<uint, (long Cells, long First, long Last)> side)
    {
        if (side.Count == 0)
        {
            return "no step";
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{side.Values.Sum(v => v.Cells)} step(s) of {side.Count} worker(s) (");
        text.AppendJoin(", ", side.Take(5).Select(p => p.Value switch
        {
            var (_, first, last) when first == last => $"worker {p.Key} step {first}",
            var (cells, first, last) when cells == last - first + 1 => $"worker {p.Key} steps {first}..{last}",
            var (cells, first, last) => $"worker {p.Key} {cells} steps in {first}..{last}",
        }));
        text.Append(side.Count > 5 ? ", ...)" : ")");
        return text.ToString();
    }
}
