using System.Buffers;

namespace SeedDaemon.Ledger;

/// <summary>
/// The Merkle tree of RFC 9162 (§2.1) over a log's entries: a leaf is <c>SHA-256(0x00 || entry)</c>,
/// a node <c>SHA-256(0x01 || left || right)</c>, and a tree of n leaves splits at the largest power of
/// two below n, so a leaf's hash never depends on its position or on the entries after it. Proofs
/// are RFC 9162's: an inclusion proof is the audit path from the leaf up to the root, a consistency
/// proof the hashes that show a tree of the old size is a prefix of the new one. Both are O(log n)
/// hashes; verifying needs only them, the sizes and the roots.
/// </summary>
public static class MerkleTree
{
    public const int HashSize = 32;

    public static byte[] LeafHash(ReadOnlySpan<byte> entry)
    {
        var length = 1 + entry.Length;
        var rented = length <= 1024 ? null : ArrayPool<byte>.Shared.Rent(length);
        var buffer = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
        buffer[0] = 0x00;
        entry.CopyTo(buffer[1..]);
        var hash = Sha256.HashData(buffer);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return hash;
    }

    public static byte[] NodeHash(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> node = stackalloc byte[1 + (2 * HashSize)];
        node[0] = 0x01;
        left.CopyTo(node[1..]);
        right.CopyTo(node[(1 + HashSize)..]);
        return Sha256.HashData(node);
    }

    /// <summary>The root of the tree whose leaves have the hashes <paramref name="leaves"/> (SHA-256 of nothing for none).</summary>
    public static byte[] Root(IReadOnlyList<byte[]> leaves) =>
        leaves.Count == 0 ? Sha256.HashData([]) : Subtree(leaves, 0, leaves.Count);

    /// <summary>The audit path of leaf <paramref name="index"/> in the tree of all of <paramref name="leaves"/>, leaf to root (RFC 9162 §2.1.3.1).</summary>
    public static List<byte[]> InclusionProof(IReadOnlyList<byte[]> leaves, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, leaves.Count);
        return [.. TiledTree.InclusionRanges(index, leaves.Count).Select(r => Subtree(leaves, (int)r.Start, (int)r.End))];
    }

    /// <summary>The proof that the tree of the first <paramref name="oldSize"/> leaves is a prefix of the tree of all of them (RFC 9162 §2.1.4.1).</summary>
    public static List<byte[]> ConsistencyProof(IReadOnlyList<byte[]> leaves, int oldSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, leaves.Count);
        return [.. TiledTree.ConsistencyRanges(oldSize, leaves.Count).Select(r => Subtree(leaves, (int)r.Start, (int)r.End))];
    }

    /// <summary>Whether <paramref name="proof"/> shows the leaf <paramref name="leafHash"/> at <paramref name="index"/> in the tree of <paramref name="size"/> leaves with <paramref name="root"/> (RFC 9162 §2.1.3.2).</summary>
    public static bool VerifyInclusion(long index, long size, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> root)
    {
        if (index < 0 || index >= size || proof.Any(p => p.Length != HashSize))
        {
            return false;
        }

        var (fn, sn) = (index, size - 1);
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = NodeHash(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    (fn, sn) = (fn >> 1, sn >> 1);
                }
            }
            else
            {
                r = NodeHash(r, p);
            }

            (fn, sn) = (fn >> 1, sn >> 1);
        }

        return sn == 0 && r.AsSpan().SequenceEqual(root);
    }

    /// <summary>Whether <paramref name="proof"/> shows the tree of <paramref name="oldSize"/> leaves with <paramref name="oldRoot"/> is a prefix of the tree of <paramref name="newSize"/> with <paramref name="newRoot"/> (RFC 9162 §2.1.4.2).</summary>
    public static bool VerifyConsistency(long oldSize, long newSize, ReadOnlySpan<byte> oldRoot, ReadOnlySpan<byte> newRoot, IReadOnlyList<byte[]> proof)
    {
        if (oldSize <= 0 || oldSize > newSize || proof.Any(p => p.Length != HashSize))
        {
            return false;
        }

        if (oldSize == newSize)
        {
            return proof.Count == 0 && oldRoot.SequenceEqual(newRoot);
        }

        // An old tree that is a whole power of two is itself a node of the new one: the proof starts from its root.
        var path = (oldSize & (oldSize - 1)) == 0 ? [oldRoot.ToArray(), .. proof] : proof;
        if (path.Count == 0)
        {
            return false;
        }

        var (fn, sn) = (oldSize - 1, newSize - 1);
        while ((fn & 1) == 1)
        {
            (fn, sn) = (fn >> 1, sn >> 1);
        }

        var (fr, sr) = (path[0], path[0]);
        foreach (var c in path.Skip(1))
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                (fr, sr) = (NodeHash(c, fr), NodeHash(c, sr));
                while ((fn & 1) == 0 && fn != 0)
                {
                    (fn, sn) = (fn >> 1, sn >> 1);
                }
            }
            else
            {
                sr = NodeHash(sr, c);
            }

            (fn, sn) = (fn >> 1, sn >> 1);
        }

        return sn == 0 && fr.AsSpan().SequenceEqual(oldRoot) && sr.AsSpan().SequenceEqual(newRoot);
    }

    private static byte[] Subtree(IReadOnlyList<byte[]> leaves, int start, int end)
    {
        if (end - start == 1)
        {
            return leaves[start];
        }

        var k = (int)TiledTree.Split(end - start);
        return NodeHash(Subtree(leaves, start, start + k), Subtree(leaves, start + k, end));
    }
}
