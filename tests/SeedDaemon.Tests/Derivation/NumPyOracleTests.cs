using System.Globalization;
using System.Text;
using System.Text.Json;
using SeedDaemon.Derivation;

namespace SeedDaemon.Tests.Derivation;

/// <summary>
/// seedseq-v1 in C# against the specification run on real NumPy (Python/seedseq_oracle.py) for
/// random keys across the whole key space, computed at test time.
/// </summary>
public sealed class NumPyOracleTests
{
    private static readonly string[] CustomLibraries = ["lightgbm", "xgboost", "my-lib_2", "a", "0", "x.y.z", new string('q', 64)];
    private static readonly string[] Streams = ["", "dataloader", "augment", "epoch-3", "s", new string('9', 64)];

    [Fact]
    public async Task Random_keys_match_NumPy()
    {
        var seed = TestRandom.Seed();
        var random = new Random(seed);
        var keys = EdgeKeys().Concat(Enumerable.Range(0, 1200).Select(_ => RandomKey(random))).ToList();

        var input = new StringBuilder();
        foreach (var (root, worker, library, stream) in keys)
        {
            input.AppendLine(JsonSerializer.Serialize(new { root = Root.Format(root), worker, library, stream }));
        }

        var lines = (await Python.RunScriptAsync("seedseq_oracle.py", input.ToString()))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(keys.Count, lines.Length);

        for (var i = 0; i < keys.Count; i++)
        {
            var (root, worker, library, stream) = keys[i];
            var because = $"key {i} (root {root}, worker {worker}, library {library}, stream '{stream}'), random seed {seed}";
            using var expected = JsonDocument.Parse(lines[i]);
            var e = expected.RootElement;
            var actual = SeedSeqV1.Derive(root, worker, library, stream);

            Assert.True(ulong.Parse(e.GetProperty("seed64").GetString()!, CultureInfo.InvariantCulture) == actual.Seed64, "seed64 of " + because);
            Assert.True(ulong.Parse(e.GetProperty("seed").GetString()!, CultureInfo.InvariantCulture) == actual.Seed, "seed of " + because);
            Assert.True(e.GetProperty("width").GetInt32() == actual.Width, "width of " + because);
            Assert.Equal(e.GetProperty("state").EnumerateArray().Select(x => x.GetUInt32()), actual.StateWords());
            Assert.Equal(e.GetProperty("spawn_key").EnumerateArray().Select(x => x.GetUInt32()), actual.SpawnKey());

            // The general SeedSequence path (no per-column cache) gives the same state.
            var entropy = new uint[8];
            var length = SeedSequence.AssembleEntropy(root, actual.SpawnKey(), entropy);
            var pool = new uint[SeedSequence.PoolSize];
            SeedSequence.MixEntropy(entropy.AsSpan(0, length), pool);
            var state = new uint[4];
            SeedSequence.GenerateState(pool, state);
            Assert.Equal(actual.StateWords(), state);
        }
    }

    private static IEnumerable<(UInt128, uint, string, string)> EdgeKeys()
    {
        UInt128[] roots = [0, 1, 42, uint.MaxValue, (UInt128)uint.MaxValue + 1, ulong.MaxValue, (UInt128)ulong.MaxValue + 1, UInt128.One << 96, UInt128.MaxValue];
        uint[] workers = [0, 1, 7, int.MaxValue, 1u << 31, uint.MaxValue - 1];
        foreach (var root in roots)
        {
            foreach (var worker in workers)
            {
                foreach (var library in Libraries.CanonicalWidths.Keys)
                {
                    yield return (root, worker, library, worker % 2 == 0 ? "" : "dataloader");
                }
            }
        }
    }

    private static (UInt128, uint, string, string) RandomKey(Random random)
    {
        var bits = random.Next(1, 129);
        var root = new UInt128((ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1), (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1));
        root = bits == 128 ? root : root & ((UInt128.One << bits) - 1);
        var worker = random.Next(4) switch
        {
            0 => (uint)random.Next(0, 1024),
            1 => (uint)random.NextInt64(0, uint.MaxValue),
            _ => (uint)random.Next(),
        };
        var canonical = Libraries.CanonicalWidths.Keys.ToArray();
        var library = random.Next(3) == 0 ? CustomLibraries[random.Next(CustomLibraries.Length)] : canonical[random.Next(canonical.Length)];
        return (root, worker, library, Streams[random.Next(Streams.Length)]);
    }
}
