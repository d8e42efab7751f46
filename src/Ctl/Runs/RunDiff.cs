using SeedDaemon.Client;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Runs;

/// <summary>
/// Compares two runs step by step: both runs' fingerprints arrive in (step, worker) order and are
/// merged as they come, so memory holds one step of each run, per-process counters and the first
/// divergence, never a whole run (the grid for --html is one byte per cell). The first step at which
/// any process's digests differ is the divergence; a generator's digest among them makes it seeding
/// (a draw added or missing since the process's previous step), otherwise it is computation when the
/// generators fingerprinted there are equal, and undetermined when none was.
/// </summary>
public sealed class RunDiff
{
    private readonly Dictionary<uint, long> _lastEqualStep = [];
    // Steps arrive in ascending order: a step is counted when it first shows up, not kept in a set.
    private long _lastCommonStep = -1;
    private long _lastDifferingStep = -1;
    private readonly SortedDictionary<uint, (long Cells, long First, long Last)> _onlyA = [];
    private readonly SortedDictionary<uint, (long Cells, long First, long Last)> _onlyB = [];

    public RunDiff(RunSide a, RunSide b, long fromStep, DiffGrid? grid)
    {
        A = a;
        B = b;
        FromStep = fromStep;
        Grid = grid;
    }

    public RunSide A { get; }

    public RunSide B { get; }

    public long FromStep { get; }

    public DiffGrid? Grid { get; }

    public long ComparedCells { get; private set; }

    public long DifferingCells { get; private set; }

    public Divergence? First { get; private set; }

    /// <summary>Merges the two streams to the end.</summary>
    public async Task RunAsync(IAsyncEnumerable<PackedStep> a, IAsyncEnumerable<PackedStep> b, CancellationToken cancellationToken)
    {
        await using var left = a.GetAsyncEnumerator(cancellationToken);
        await using var right = b.GetAsyncEnumerator(cancellationToken);
        var hasLeft = await left.MoveNextAsync();
        var hasRight = await right.MoveNextAsync();
        while (hasLeft || hasRight)
        {
            var order = !hasLeft ? 1 : !hasRight ? -1 : Compare(left.Current, right.Current);
            if (order < 0)
            {
                Only(_onlyA, left.Current, DiffGrid.OnlyA);
                hasLeft = await left.MoveNextAsync();
            }
            else if (order > 0)
            {
                Only(_onlyB, right.Current, DiffGrid.OnlyB);
                hasRight = await right.MoveNextAsync();
            }
            else
            {
                Both(left.Current, right.Current);
                hasLeft = await left.MoveNextAsync();
                hasRight = await right.MoveNextAsync();
            }
        }
    }

    public long CommonSteps { get; private set; }

    public long DifferingSteps { get; private set; }

    public bool Equal => First is null;

    /// <summary>No process recorded a step in both runs from <see cref="FromStep"/> on: there was nothing to compare.</summary>
    public bool NothingCompared => ComparedCells == 0;

    public IReadOnlyDictionary<uint, (long Cells, long First, long Last)> OnlyInA => _onlyA;

    public IReadOnlyDictionary<uint, (long Cells, long First, long Last)> OnlyInB => _onlyB;

    /// <summary>Environment entries that differ between the two runs for <paramref name="workers"/> (all when null); the pid always differs and is left out.</summary>
    public IReadOnlyList<EnvironmentDifference> EnvironmentDifferences(IEnumerable<uint>? workers = null)
    {
        var list = new List<EnvironmentDifference>();
        foreach (var worker in workers ?? A.Processes.Keys.Intersect(B.Processes.Keys).Order())
        {
            if (!A.Processes.TryGetValue(worker, out var pa) || !B.Processes.TryGetValue(worker, out var pb))
            {
                continue;
            }

            foreach (var key in pa.Environment.Keys.Union(pb.Environment.Keys).Where(k => k != "pid").Order(StringComparer.Ordinal))
            {
                var va = pa.Environment.GetValueOrDefault(key) ?? "(absent)";
                var vb = pb.Environment.GetValueOrDefault(key) ?? "(absent)";
                if (va != vb)
                {
                    list.Add(new EnvironmentDifference(worker, key, va, vb));
                }
            }
        }

        return list;
    }

    private static int Compare(PackedStep x, PackedStep y) =>
        x.Step != y.Step ? x.Step.CompareTo(y.Step) : x.Worker.CompareTo(y.Worker);

    private void Only(SortedDictionary<uint, (long Cells, long First, long Last)> side, PackedStep cell, byte status)
    {
        side[cell.Worker] = side.TryGetValue(cell.Worker, out var c) ? (c.Cells + 1, c.First, cell.Step) : (1, cell.Step, cell.Step);
        Grid?.Set(cell.Worker, cell.Step, status);
    }

    private void Both(PackedStep a, PackedStep b)
    {
        ComparedCells++;
        if (a.Step != _lastCommonStep)
        {
            _lastCommonStep = a.Step;
            CommonSteps++;
        }

        // Mostly both runs report the same digests in the same order: the same bytes, equal without unpacking.
        var unpacked = a.Digests.Span.SequenceEqual(b.Digests.Span) ? null : a.Unpack();
        var differing = unpacked is null ? null : Differences(a.Worker, unpacked, b.Unpack());
        if (differing is null)
        {
            _lastEqualStep[a.Worker] = a.Step;
            Grid?.Set(a.Worker, a.Step, DiffGrid.Equal);
            return;
        }

        DifferingCells++;
        if (a.Step != _lastDifferingStep)
        {
            _lastDifferingStep = a.Step;
            DifferingSteps++;
        }

        Grid?.Set(a.Worker, a.Step, DiffGrid.Differs);
        if (First is null)
        {
            First = new Divergence(a.Step);
        }

        if (First.Step == a.Step)
        {
            var generators = unpacked!.Where(d => d.Kind == DigestKind.Generator).Select(d => d.Name).ToList();
            First.Add(a.Worker, _lastEqualStep.TryGetValue(a.Worker, out var previous) ? previous : null, differing, generators);
        }
    }

    /// <summary>The digests that differ between two steps of one worker, or null when none does (the same digests in another order).</summary>
    private static List<DigestDifference>? Differences(uint worker, IReadOnlyList<Digest> a, IReadOnlyList<Digest> b)
    {
        // A step holds a few digests, mostly in the same order in both runs: a scan, not a dictionary per cell.
        // A digest only one run has (a generator missing, a value not named) differs too.
        List<DigestDifference>? differing = null;
        for (var i = 0; i < a.Count; i++)
        {
            var digest = a[i];
            var other = i < b.Count && b[i].Name == digest.Name ? b[i] : b.FirstOrDefault(d => d.Name == digest.Name);
            if (other is null || other.Kind != digest.Kind || !digest.Value.Span.SequenceEqual(other.Value.Span))
            {
                (differing ??= []).Add(new DigestDifference(worker, digest.Name, digest.Kind, digest.Value.ToByteArray(), other?.Value.ToByteArray() ?? []));
            }
        }

        foreach (var only in b.Where(d => a.All(x => x.Name != d.Name)))
        {
            (differing ??= []).Add(new DigestDifference(worker, only.Name, only.Kind, [], only.Value.ToByteArray()));
        }

        return differing;
    }
}

/// <summary>One run as the diff sees it: its experiment and id, and its processes by worker.</summary>
public sealed record RunSide(string ExperimentId, string RunId, IReadOnlyDictionary<uint, RunProcess> Processes)
{
    public string Name => RunId;
}

public sealed record DigestDifference(uint Worker, string Name, DigestKind Kind, byte[] A, byte[] B)
{
    public bool IsGenerator => Kind == DigestKind.Generator;
}

public sealed record EnvironmentDifference(uint Worker, string Key, string A, string B);

/// <summary>The first step at which any process's digests differ: which processes, which digests, and why.</summary>
public sealed class Divergence(long step)
{
    private readonly List<(uint Worker, long? PreviousEqualStep, IReadOnlyList<DigestDifference> Digests)> _workers = [];
    private readonly SortedSet<string> _generatorsCompared = new(StringComparer.Ordinal);
    private readonly List<uint> _withoutGenerators = [];

    public long Step { get; } = step;

    public IReadOnlyList<(uint Worker, long? PreviousEqualStep, IReadOnlyList<DigestDifference> Digests)> Workers => _workers;

    /// <summary>A generator differs: the draws, not the arithmetic, went apart first.</summary>
    public bool IsSeeding => _workers.Any(w => w.Digests.Any(d => d.IsGenerator));

    /// <summary>seeding (a generator differs), computation (the generators fingerprinted are equal), or undetermined (none was fingerprinted).</summary>
    public string Cause => IsSeeding ? "seeding" : _generatorsCompared.Count == 0 ? "undetermined" : "computation";

    /// <summary>A process that differs at this step, with the generators its step in the first run holds.</summary>
    public void Add(uint worker, long? previousEqualStep, IReadOnlyList<DigestDifference> digests, IReadOnlyCollection<string> generators)
    {
        _workers.Add((worker, previousEqualStep, digests));
        _generatorsCompared.UnionWith(generators);
        if (generators.Count == 0)
        {
            _withoutGenerators.Add(worker);
        }
    }

    /// <summary>One sentence a person acts on.</summary>
    public string Explanation
    {
        get
        {
            if (IsSeeding)
            {
                var (worker, previous, digests) = _workers.First(w => w.Digests.Any(d => d.IsGenerator));
                var generators = string.Join(", ", digests.Where(d => d.IsGenerator).Select(d => d.Name));
                var since = previous is { } p ? $"between steps {p} and {Step}" : $"at or before step {Step} (no earlier step of this worker is equal in both runs)";
                return $"the {generators} generator{(digests.Count(d => d.IsGenerator) > 1 ? "s" : "")} of worker {worker} differ{(digests.Count(d => d.IsGenerator) > 1 ? "" : "s")} first at step {Step}: a draw was added or is missing {since}, or a generator was reseeded.";
            }

            // Only the generators fingerprinted are known equal: a changed input or a generator the run does not fingerprint looks the same.
            var names = _workers.SelectMany(w => w.Digests.Select(d => d.Name)).Distinct().Order(StringComparer.Ordinal).ToList();
            var workers = $"worker{(_workers.Count > 1 ? "s" : "")} {string.Join(", ", _workers.Select(w => w.Worker))}";
            var differ = $"{string.Join(", ", names)} differ{(names.Count > 1 ? "" : "s")} first at step {Step} on {workers}";
            const string Otherwise = "a changed input (the data's order, a hyperparameter, the code) or a generator the run does not fingerprint (a DataLoader's: pass it in seeded=)";
            var without = _withoutGenerators.Count == 0 ? ""
                : $" (worker{(_withoutGenerators.Count > 1 ? "s" : "")} {string.Join(", ", _withoutGenerators.Take(20))}{(_withoutGenerators.Count > 20 ? ", ..." : "")} fingerprinted none there: for {(_withoutGenerators.Count > 1 ? "them" : "it")}, seeding is not ruled out)";
            return _generatorsCompared.Count == 0
                ? $"{differ}, and no generator was fingerprinted there, so seeding cannot be told from computation: a nondeterministic computation, {Otherwise}, or any draw."
                : $"{differ} while the generators fingerprinted ({string.Join(", ", _generatorsCompared)}) are equal{without}: a nondeterministic computation, or {Otherwise}.";
        }
    }
}
