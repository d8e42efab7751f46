namespace SeedDaemon.Ledger;

/// <summary>
/// Proofs over a stored tree in O(log n) reads. A log stores its leaves (level 0) and, as they
/// complete, the roots of its perfect subtrees of 2^8, 2^16, ... leaves (levels 8, 16, ...:
/// <see cref="MerkleFrontier.Append"/> hands them out). Any perfect subtree of height h is then a
/// fold of at most 128 stored hashes of the level below it that is a multiple of 8, and RFC 9162's
/// proofs are made of at most 2·log2(n) subtrees: a proof reads a few hundred hashes whatever the
/// size, in a few index ranges. A proof is asked in two steps: <see cref="Reads"/> says which
/// stored hashes it needs, <see cref="RangeHash"/> folds them.
/// </summary>
public static class TiledTree
{
    /// <summary>The levels stored are the multiples of this (a stored subtree covers 2^8 of the level below).</summary>
    public const int TileHeight = 8;

    /// <summary>The leaf ranges [Start, End) whose subtree hashes are the audit path of <paramref name="index"/> in a tree of <paramref name="size"/>, leaf to root (RFC 9162 §2.1.3.1).</summary>
    public static List<(long Start, long End)> InclusionRanges(long index, long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, size);
        var ranges = new List<(long, long)>();
        Path(index, 0, size, ranges);
        return ranges;
    }

    /// <summary>The leaf ranges whose subtree hashes are the consistency proof from <paramref name="oldSize"/> to <paramref name="newSize"/> (RFC 9162 §2.1.4.1).</summary>
    public static List<(long Start, long End)> ConsistencyRanges(long oldSize, long newSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(oldSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(oldSize, newSize);
        var ranges = new List<(long, long)>();
        Subproof(oldSize, 0, newSize, true, ranges);
        return ranges;
    }

    /// <summary>The stored hashes the subtrees of <paramref name="ranges"/> are folded from: per level, index ranges [Start, End), merged.</summary>
    public static List<(int Level, long Start, long End)> Reads(IEnumerable<(long Start, long End)> ranges)
    {
        var reads = new List<(int Level, long Start, long End)>();
        foreach (var (start, end) in ranges)
        {
            foreach (var (height, index) in PerfectSubtrees(start, end))
            {
                var level = height - (height % TileHeight);
                var span = height - level;
                reads.Add((level, index << span, (index + 1) << span));
            }
        }

        var merged = new List<(int Level, long Start, long End)>();
        foreach (var read in reads.OrderBy(r => r.Level).ThenBy(r => r.Start))
        {
            if (merged.Count > 0 && merged[^1].Level == read.Level && merged[^1].End >= read.Start)
            {
                merged[^1] = (read.Level, merged[^1].Start, Math.Max(merged[^1].End, read.End));
            }
            else
            {
                merged.Add(read);
            }
        }

        return merged;
    }

    /// <summary>
    /// The hash of the subtree over leaves [<paramref name="start"/>, <paramref name="end"/>), from the
    /// stored hashes <paramref name="stored"/> gives by (level, index): those <see cref="Reads"/> named.
    /// </summary>
    public static byte[] RangeHash(long start, long end, Func<int, long, byte[]> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (end <= start)
        {
            throw new ArgumentOutOfRangeException(nameof(end), "a subtree has at least one leaf");
        }

        var n = end - start;
        if ((n & (n - 1)) == 0 && start % n == 0)
        {
            var height = (int)(63 - long.LeadingZeroCount(n));
            var level = height - (height % TileHeight);
            return Fold(level, start >> level, 1L << (height - level), stored);
        }

        var k = Split(n);
        return MerkleTree.NodeHash(RangeHash(start, start + k, stored), RangeHash(start + k, end, stored));
    }

    /// <summary>The perfect subtrees (height, index at that height) a range splits into, as RFC 9162's MTH splits it.</summary>
    public static IEnumerable<(int Height, long Index)> PerfectSubtrees(long start, long end)
    {
        var n = end - start;
        if ((n & (n - 1)) == 0 && start % n == 0)
        {
            var height = (int)(63 - long.LeadingZeroCount(n));
            yield return (height, start >> height);
            yield break;
        }

        var k = Split(n);
        foreach (var subtree in PerfectSubtrees(start, start + k).Concat(PerfectSubtrees(start + k, end)))
        {
            yield return subtree;
        }
    }

    /// <summary>The largest power of two below <paramref name="n"/> (n > 1).</summary>
    internal static long Split(long n) => 1L << (int)(63 - long.LeadingZeroCount(n - 1));

    private static byte[] Fold(int level, long first, long count, Func<int, long, byte[]> stored)
    {
        if (count == 1)
        {
            return stored(level, first);
        }

        var half = count / 2;
        return MerkleTree.NodeHash(Fold(level, first, half, stored), Fold(level, first + half, half, stored));
    }

    private static void Path(long index, long start, long end, List<(long, long)> path)
    {
        if (end - start == 1)
        {
            return;
        }

        var k = Split(end - start);
        if (index < k)
        {
            Path(index, start, start + k, path);
            path.Add((start + k, end));
        }
        else
        {
            Path(index - k, start + k, end, path);
            path.Add((start, start + k));
        }
    }

    private static void Subproof(long m, long start, long end, bool whole, List<(long, long)> proof)
    {
        var n = end - start;
        if (m == n)
        {
            if (!whole)
            {
                proof.Add((start, end));
            }

            return;
        }

        var k = Split(n);
        if (m <= k)
        {
            Subproof(m, start, start + k, whole, proof);
            proof.Add((start + k, end));
        }
        else
        {
            Subproof(m - k, start + k, end, false, proof);
            proof.Add((start, start + k));
        }
    }
}
