using SeedDaemon.Derivation;

namespace SeedDaemon.Tests.Derivation;

/// <summary>Within a column, no two workers share a seed, even truncated to 31 bits.</summary>
public sealed class ColumnGuaranteeTests
{
    [Theory]
    [InlineData("42", "dotnet", "")]
    [InlineData("340282366920938463463374607431768211455", "torch", "")]
    [InlineData("0", "numpy", "dataloader")]
    public void A_million_workers_get_a_million_distinct_31_bit_seeds(string rootText, string library, string stream)
    {
        Assert.True(Root.TryParse(rootText, out var root));
        const int workers = 1_000_000;
        var column = SeedColumn.Create(root, library, stream);
        var low31 = new uint[workers];
        for (uint worker = 0; worker < workers; worker++)
        {
            low31[worker] = (uint)(column.Derive(worker).Seed & 0x7FFFFFFF);
        }

        Array.Sort(low31);
        for (var i = 1; i < low31.Length; i++)
        {
            Assert.True(low31[i] != low31[i - 1], $"two workers of column ({library}, '{stream}') share the 31-bit seed {low31[i]}");
        }
    }

    [Fact]
    public void Workers_spread_over_the_whole_31_bit_range()
    {
        // A permutation that left workers near zero would defeat the point of it: the low bits must look random.
        var column = SeedColumn.Create(42, "torch", "");
        var high = Enumerable.Range(0, 10_000).Count(w => (column.Derive((uint)w).Seed64 & 0x7FFFFFFF) >= 1u << 30);
        Assert.InRange(high, 4_500, 5_500);
    }
}
