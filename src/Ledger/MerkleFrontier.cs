using System.Security.Cryptography;

namespace SeedDaemon.Ledger;

/// <summary>
/// The right edge of a growing Merkle tree (RFC 9162): the roots of its perfect subtrees, one per
/// set bit of its size, at most 64 hashes whatever the size. A leaf is appended in O(1) hashes
/// amortized and the root is O(log n), without the leaves: what a log keeps in memory per tree to
/// sign its checkpoints as it grows, and what it stores to go on after a restart.
/// </summary>
public sealed class MerkleFrontier
{
    // _subtrees[h]: the root of the perfect subtree of 2^h leaves, when bit h of Size is set.
    private readonly List<byte[]?> _subtrees = [];

    public long Size { get; private set; }

    /// <summary>The subtree roots, largest first (what <see cref="Restore"/> takes back).</summary>
    public IReadOnlyList<byte[]> Hashes => [.. _subtrees.Where(h => h is not null).Reverse()!];

    /// <summary>A frontier saved as its size and <see cref="Hashes"/>.</summary>
    /// <exception cref="ArgumentException">The hashes are not one of 32 bytes per set bit of the size.</exception>
    public static MerkleFrontier Restore(long size, IReadOnlyList<byte[]> hashes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (hashes.Count != long.PopCount(size) || hashes.Any(h => h.Length != MerkleTree.HashSize))
        {
            throw new ArgumentException($"a tree of {size} leaves has {long.PopCount(size)} subtree roots of {MerkleTree.HashSize} bytes; {hashes.Count} were given", nameof(hashes));
        }

        var frontier = new MerkleFrontier { Size = size };
        var next = hashes.Count - 1;
        for (var height = 0; size >> height != 0; height++)
        {
            frontier._subtrees.Add(((size >> height) & 1) == 1 ? hashes[next--] : null);
        }

        return frontier;
    }

    /// <summary>Appends a leaf by its hash (<see cref="MerkleTree.LeafHash"/>).</summary>
    public void Append(byte[] leafHash)
    {
        var carry = leafHash;
        var height = 0;
        for (; height < _subtrees.Count && _subtrees[height] is { } left; height++)
        {
            carry = MerkleTree.NodeHash(left, carry);
            _subtrees[height] = null;
        }

        if (height == _subtrees.Count)
        {
            _subtrees.Add(null);
        }

        _subtrees[height] = carry;
        Size++;
    }

    /// <summary>The tree's root: the subtrees folded from the smallest up (SHA-256 of nothing for an empty tree).</summary>
    public byte[] Root()
    {
        byte[]? root = null;
        foreach (var subtree in _subtrees)
        {
            if (subtree is not null)
            {
                root = root is null ? subtree : MerkleTree.NodeHash(subtree, root);
            }
        }

        return root ?? SHA256.HashData(ReadOnlySpan<byte>.Empty);
    }
}
