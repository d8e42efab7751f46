using System.Text.Json;
using SeedDaemon.Derivation;

namespace SeedDaemon.Tests.Derivation;

/// <summary>SeedSequence against the vectors NumPy itself publishes in its test suite.</summary>
public sealed class NumPyReferenceVectorTests
{
    [Fact]
    public async Task SeedSequence_matches_NumPys_published_vectors()
    {
        using var json = JsonDocument.Parse(await Python.RunScriptAsync("numpy_reference_vectors.py"));
        var cases = json.RootElement.GetProperty("cases").EnumerateArray().ToList();
        Assert.True(cases.Count >= 10, $"expected NumPy's reference vectors, found {cases.Count}");

        foreach (var testCase in cases)
        {
            var entropy = testCase.GetProperty("entropy").EnumerateArray().Select(e => e.GetUInt32()).ToArray();
            var expected32 = testCase.GetProperty("state32").EnumerateArray().Select(e => e.GetUInt32()).ToArray();
            var expected64 = testCase.GetProperty("state64").EnumerateArray().Select(e => ulong.Parse(e.GetString()!)).ToArray();

            var pool = new uint[SeedSequence.PoolSize];
            SeedSequence.MixEntropy(entropy, pool);

            var state32 = new uint[expected32.Length];
            SeedSequence.GenerateState(pool, state32);
            Assert.Equal(expected32, state32);

            // generate_state(n, uint64) is 2n uint32 words read as little-endian pairs.
            var words = new uint[expected64.Length * 2];
            SeedSequence.GenerateState(pool, words);
            var state64 = Enumerable.Range(0, expected64.Length).Select(i => words[2 * i] | ((ulong)words[(2 * i) + 1] << 32)).ToArray();
            Assert.Equal(expected64, state64);
        }
    }
}
