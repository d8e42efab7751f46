using System.Text;
using SeedDaemon.Ledger;

namespace SeedDaemon.Tests.Ledger;

/// <summary>
/// The Merkle tree (RFC 9162) held against an independent implementation: Go's
/// golang.org/x/mod/sumdb/tlog (Debian's golang-golang-x-mod-dev), run as a real process. Roots,
/// inclusion proofs and consistency proofs must be the same bytes; each side must accept the other's
/// proofs, and refuse them changed in any hash, at another index or against another size.
/// </summary>
public sealed class MerkleTreeTests
{
    private static readonly int[] Sizes = [.. Enumerable.Range(1, 40), 63, 64, 65, 127, 128, 129, 1000, 1025];

    [Fact]
    public async Task Roots_and_proofs_are_the_bytes_Gos_tlog_makes_and_each_side_accepts_the_others_proofs()
    {
        var leaves = Enumerable.Range(0, Sizes.Max()).Select(i => MerkleTree.LeafHash(Encoding.ASCII.GetBytes($"entry {i}"))).ToList();
        var commands = new List<string>();
        var expected = new List<Func<string, string?>>();
        foreach (var n in Sizes)
        {
            var tree = leaves.Take(n).ToList();
            var root = MerkleTree.Root(tree);
            commands.Add($"root {n}");
            expected.Add(answer => answer == Convert.ToBase64String(root) ? null : $"root of {n}");
            foreach (var i in Indexes(n))
            {
                var proof = MerkleTree.InclusionProof(tree, i);
                commands.Add($"prove {i} {n}");
                expected.Add(answer => answer == Encode(proof) && MerkleTree.VerifyInclusion(i, n, tree[i], Decode(answer), root) ? null : $"inclusion of {i} in {n}: {answer} against {Encode(proof)}");
                commands.Add($"checkrecord {i} {n} {Encode(proof)}");
                expected.Add(answer => answer == "ok" ? null : $"tlog refused the inclusion proof of {i} in {n}: {answer}");
            }

            foreach (var m in Indexes(n).Select(i => i + 1))
            {
                var proof = MerkleTree.ConsistencyProof(tree, m);
                var oldRoot = MerkleTree.Root(leaves.Take(m).ToList());
                commands.Add($"consist {m} {n}");
                expected.Add(answer => answer == Encode(proof) && MerkleTree.VerifyConsistency(m, n, oldRoot, root, Decode(answer)) ? null : $"consistency of {m} with {n}: {answer} against {Encode(proof)}");
                commands.Add($"checktree {m} {n} {Encode(proof)}");
                expected.Add(answer => answer == "ok" ? null : $"tlog refused the consistency proof of {m} with {n}: {answer}");
            }
        }

        var answers = await GoTlogAsync(commands);
        Assert.Equal(commands.Count, answers.Count);
        var failures = expected.Select((check, i) => check(answers[i])).OfType<string>().ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {commands.Count} differ; first: {string.Join('\n', failures.Take(5))}");
    }

    [Fact]
    public void A_proof_changed_in_any_hash_or_held_to_another_index_size_or_root_is_refused()
    {
        var leaves = Enumerable.Range(0, 37).Select(i => MerkleTree.LeafHash(Encoding.ASCII.GetBytes($"entry {i}"))).ToList();
        var root = MerkleTree.Root(leaves);
        var proof = MerkleTree.InclusionProof(leaves, 21);
        Assert.True(MerkleTree.VerifyInclusion(21, 37, leaves[21], proof, root));
        for (var h = 0; h < proof.Count; h++)
        {
            var changed = proof.Select(p => p.ToArray()).ToList();
            changed[h][7] ^= 0x01;
            Assert.False(MerkleTree.VerifyInclusion(21, 37, leaves[21], changed, root), $"hash {h} changed");
        }

        Assert.False(MerkleTree.VerifyInclusion(20, 37, leaves[21], proof, root));
        // (Size 38 would give leaf 21 a path of the same shape: the size is bound by the signed checkpoint beside the root.)
        Assert.False(MerkleTree.VerifyInclusion(21, 22, leaves[21], proof, root));
        Assert.False(MerkleTree.VerifyInclusion(21, 37, leaves[20], proof, root));
        Assert.False(MerkleTree.VerifyInclusion(37, 37, leaves[21], proof, root));
        Assert.False(MerkleTree.VerifyInclusion(21, 37, leaves[21], proof[..^1], root));
        Assert.False(MerkleTree.VerifyInclusion(21, 37, leaves[21], [.. proof, root], root));

        var oldRoot = MerkleTree.Root(leaves.Take(16).ToList());
        var consistency = MerkleTree.ConsistencyProof(leaves, 16);
        Assert.True(MerkleTree.VerifyConsistency(16, 37, oldRoot, root, consistency));
        Assert.False(MerkleTree.VerifyConsistency(15, 37, oldRoot, root, consistency));
        Assert.False(MerkleTree.VerifyConsistency(16, 20, oldRoot, root, consistency));
        Assert.False(MerkleTree.VerifyConsistency(16, 37, root, root, consistency));
        Assert.False(MerkleTree.VerifyConsistency(0, 37, oldRoot, root, consistency));
        Assert.False(MerkleTree.VerifyConsistency(38, 37, oldRoot, root, consistency));
        Assert.True(MerkleTree.VerifyConsistency(37, 37, root, root, []));
        Assert.False(MerkleTree.VerifyConsistency(37, 37, root, oldRoot, []));
        for (var h = 0; h < consistency.Count; h++)
        {
            var changed = consistency.Select(p => p.ToArray()).ToList();
            changed[h][0] ^= 0x80;
            Assert.False(MerkleTree.VerifyConsistency(16, 37, oldRoot, root, changed), $"hash {h} changed");
        }
    }

    /// <summary>
    /// The frontier a log keeps per tree gives, at every size from 0 to 1,100, the root of the whole
    /// tree (held to Go's above), and a frontier saved and restored at any size goes on to the same roots.
    /// </summary>
    [Fact]
    public void A_growing_frontier_has_the_trees_root_at_every_size_and_goes_on_after_a_restore()
    {
        var leaves = Enumerable.Range(0, 1100).Select(i => MerkleTree.LeafHash(Encoding.ASCII.GetBytes($"entry {i}"))).ToList();
        var frontier = new MerkleFrontier();
        Assert.Equal(MerkleTree.Root([]), frontier.Root());
        for (var n = 1; n <= leaves.Count; n++)
        {
            frontier.Append(leaves[n - 1]);
            Assert.Equal(n, frontier.Size);
            Assert.True(MerkleTree.Root(leaves.Take(n).ToList()).AsSpan().SequenceEqual(frontier.Root()), $"root of {n}");
            Assert.Equal(System.Numerics.BitOperations.PopCount((uint)n), frontier.Hashes.Count);
            if (n % 97 == 0)
            {
                var restored = MerkleFrontier.Restore(n, frontier.Hashes);
                restored.Append(leaves[0]);
                var grown = leaves.Take(n).Append(leaves[0]).ToList();
                Assert.True(MerkleTree.Root(grown).AsSpan().SequenceEqual(restored.Root()), $"restored at {n}");
            }
        }

        Assert.Throws<ArgumentException>(() => MerkleFrontier.Restore(6, [leaves[0]]));
        Assert.Throws<ArgumentException>(() => MerkleFrontier.Restore(1, [new byte[31]]));
    }

    /// <summary>Every index of a small tree; of a large one the edges and a few inside.</summary>
    private static IEnumerable<int> Indexes(int n) => n <= 40 ? Enumerable.Range(0, n) : new[] { 0, 1, n / 3, n / 2, n - 2, n - 1 }.Distinct();

    private static string Encode(List<byte[]> hashes) => hashes.Count == 0 ? "-" : string.Join(',', hashes.Select(Convert.ToBase64String));

    private static List<byte[]> Decode(string text) => text is "" or "-" ? [] : [.. text.Split(',').Select(Convert.FromBase64String)];

    private static Task<List<string>> GoTlogAsync(List<string> commands) => GoOracle.RunAsync("tlog_oracle.go", commands);
}
