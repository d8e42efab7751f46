using System.Text;
using SeedDaemon.Ledger;

namespace SeedDaemon.Tests.Ledger;

/// <summary>
/// Proofs from stored subtrees (what seedd serves) against proofs from all the leaves (MerkleTree,
/// itself held to Go's tlog in <see cref="MerkleTreeTests"/>): the same bytes, and only the stored
/// hashes <see cref="TiledTree.Reads"/> named are looked at, a bounded number whatever the size.
/// </summary>
public sealed class TiledTreeTests
{
    [Fact]
    public void Proofs_from_the_stored_subtrees_are_the_proofs_from_all_the_leaves_and_read_only_what_they_named()
    {
        const int Leaves = (1 << 16) + 700;
        var leaves = Enumerable.Range(0, Leaves).Select(i => MerkleTree.LeafHash(Encoding.ASCII.GetBytes($"entry {i}"))).ToList();
        var frontier = new MerkleFrontier();
        var nodes = new List<TreeNode>();
        var roots = new Dictionary<long, byte[]>();
        int[] sizes = [1, 2, 255, 256, 257, 511, 512, 513, 1000, 65535, 65536, 65537, Leaves];
        foreach (var leaf in leaves)
        {
            frontier.Append(leaf, nodes);
            if (sizes.Contains((int)frontier.Size))
            {
                roots[frontier.Size] = frontier.Root();
            }
        }

        Assert.Equal(256 + 1 + 2, nodes.Count);
        var stored = nodes.ToDictionary(n => (n.Level, n.Index), n => n.Hash);
        for (var i = 0; i < leaves.Count; i++)
        {
            stored[(0, i)] = leaves[i];
        }

        foreach (var size in sizes)
        {
            var prefix = leaves.Take(size).ToList();
            Assert.Equal(MerkleTree.Root(prefix), Resolve([(0, size)], stored)[0]);
            Assert.Equal(roots[size], MerkleTree.Root(prefix));
            foreach (var index in new[] { 0, size / 3, size / 2, size - 1 }.Distinct())
            {
                var ranges = TiledTree.InclusionRanges(index, size);
                Assert.Equal(MerkleTree.InclusionProof(prefix, index), Resolve(ranges, stored));
            }

            foreach (var old in new[] { 1, size / 2, size - 1, size }.Where(m => m > 0).Distinct())
            {
                var ranges = TiledTree.ConsistencyRanges(old, size);
                Assert.Equal(MerkleTree.ConsistencyProof(prefix, old), Resolve(ranges, stored));
            }
        }
    }

    /// <summary>The ranges' hashes from <paramref name="stored"/>, refusing to look at anything the reads did not name.</summary>
    private static List<byte[]> Resolve(List<(long Start, long End)> ranges, Dictionary<(int, long), byte[]> stored)
    {
        var reads = TiledTree.Reads(ranges);
        Assert.True(reads.Sum(r => r.End - r.Start) <= 4 * 256 * 3, $"{reads.Sum(r => r.End - r.Start)} hashes read");
        return [.. ranges.Select(r => TiledTree.RangeHash(r.Start, r.End, (level, index) =>
            reads.Any(read => read.Level == level && read.Start <= index && index < read.End)
                ? stored[(level, index)]
                : throw new InvalidOperationException($"({level}, {index}) was not named by Reads")))];
    }
}
