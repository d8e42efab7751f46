using SeedDaemon.V1;

namespace SeedDaemon.Client;

/// <summary>All the seeds one worker needs, fetched in one call and verified.</summary>
public sealed class SeedBundle
{
    private readonly Dictionary<ColumnKey, IssuedSeed> _seeds;

    public SeedBundle(string experimentId, uint worker, IEnumerable<IssuedSeed> seeds)
    {
        ExperimentId = experimentId;
        Worker = worker;
        _seeds = seeds.ToDictionary(s => new ColumnKey(s.Library, s.Stream));
        var first = _seeds.Values.FirstOrDefault();
        Root = first?.Root ?? "";
        Scheme = first?.Scheme ?? "";
    }

    public string ExperimentId { get; }

    public uint Worker { get; }

    /// <summary>The experiment's root (decimal), the SeedSequence entropy of every seed here.</summary>
    public string Root { get; }

    public string Scheme { get; }

    public IReadOnlyDictionary<ColumnKey, IssuedSeed> Seeds => _seeds;

    public bool Contains(string library, string stream = "") => _seeds.ContainsKey(new ColumnKey(library, stream));

    /// <summary>The full answer for a column of this bundle.</summary>
    public IssuedSeed Get(string library, string stream = "") =>
        _seeds.TryGetValue(new ColumnKey(library, stream), out var seed)
            ? seed
            : throw new KeyNotFoundException($"The bundle of worker {Worker} has no seed for {new ColumnKey(library, stream)}; ask for that column when fetching it.");

    /// <summary>The seed for a column, already truncated to the library's width.</summary>
    public ulong Seed(string library, string stream = "") => Get(library, stream).Seed;

    /// <summary><c>new System.Random((int)seed)</c> with the 31-bit seed of the "dotnet" library (and stream).</summary>
    public Random CreateRandom(string stream = "") => new(checked((int)Seed("dotnet", stream)));
}
