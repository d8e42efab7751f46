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

    /// <summary>
    /// Appends a leaf by its hash (<see cref="MerkleTree.LeafHash"/>). Each perfect subtree of a
    /// stored level (<see cref="TiledTree.TileHeight"/>) that the leaf completes is added to
    /// <paramref name="completed"/>: what a log stores to answer proofs in O(log n) reads.
    /// </summary>
    public void Append(byte[] leafHash, ICollection<TreeNode>? completed = null)
    {
        var carry = leafHash;
        var height = 0;
        for (; height < _subtrees.Count && _subtrees[height] is { } left; height++)
        {
            carry = MerkleTree.NodeHash(left, carry);
            _subtrees[height] = null;
            if ((height + 1) % TiledTree.TileHeight == 0)
            {
                completed?.Add(new TreeNode(height + 1, Size >> (height + 1), carry));
            }
        }

        if (height == _subtrees.Count)
        {
            _subtrees.Add(null);
        }

        _subtrees[height] = carry;
        Size++;
    }

    /// <summary>A copy that grows on its own.</summary>
    public MerkleFrontier Clone() => Restore(Size, Hashes);

    /// <summary><see cref="Hashes"/> as one byte string (what a store keeps beside the size).</summary>
    public byte[] Encode() => [.. Hashes.SelectMany(h => h)];

    /// <summary>A frontier saved with <see cref="Encode"/>.</summary>
    /// <exception cref="ArgumentException">The bytes are not one hash per set bit of the size.</exception>
    public static MerkleFrontier Decode(long size, ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length % MerkleTree.HashSize != 0)
        {
            throw new ArgumentException($"a saved frontier is whole {MerkleTree.HashSize}-byte hashes; {encoded.Length} bytes were given", nameof(encoded));
        }

        var hashes = new List<byte[]>();
        for (var at = 0; at < encoded.Length; at += MerkleTree.HashSize)
        {
            hashes.Add(encoded.Slice(at, MerkleTree.HashSize).ToArray());
        }

        return Restore(size, hashes);
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

        return root ?? Sha256.HashData([]);
    }
}

/// <summary>A stored hash of a tree: at level 0 a leaf, at level h the root of the perfect subtree of leaves [index·2^h, (index+1)·2^h).</summary>
public sealed record TreeNode(int Level, long Index, byte[] Hash);
