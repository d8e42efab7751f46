namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// One experiment's issued keys, in memory: the projection of its ledger (a key's first issue is its
/// first event, its count the number of its events). Records are kept in insertion order in chunks
/// of <see cref="ChunkSize"/>, which is also how they are checkpointed into LiteDB; an index finds a
/// key's record. The group-commit thread is the only writer and changes records only under the
/// store's write lock; readers hold the read lock. A record's key (worker, column) never changes
/// once written, which is what lets a listing sort without holding the lock.
/// </summary>
internal sealed class KeyProjection
{
    public const int ChunkSize = 4096;

    private readonly List<KeyRecord[]> _chunks = [];
    private readonly Dictionary<KeyId, int> _index = [];
    private readonly HashSet<int> _dirty = [];
    private SortedOrder? _order;

    public int Count { get; private set; }

    /// <summary>Chunks changed since the last checkpoint.</summary>
    public IReadOnlyCollection<int> DirtyChunks => _dirty;

    public int ChunkCount => _chunks.Count;

    /// <summary>Room for this many keys without growing (at open, when the checkpoint says how many there are).</summary>
    public void EnsureCapacity(int keys) => _index.EnsureCapacity(keys);

    public bool TryFind(uint worker, int column, out int position) => _index.TryGetValue(new KeyId(worker, column), out position);

    public ref KeyRecord At(int position) => ref _chunks[position / ChunkSize][position % ChunkSize];

    /// <summary>Appends a key never seen before; returns its position.</summary>
    public int Add(in KeyRecord record)
    {
        var position = Count;
        if (position % ChunkSize == 0)
        {
            _chunks.Add(new KeyRecord[ChunkSize]);
        }

        _chunks[^1][position % ChunkSize] = record;
        _index.Add(new KeyId(record.Worker, record.Column), position);
        Count++;
        _dirty.Add(position / ChunkSize);
        return position;
    }

    public void SetCount(int position, ulong count)
    {
        At(position).IssueCount = count;
        _dirty.Add(position / ChunkSize);
    }

    public ReadOnlySpan<KeyRecord> Chunk(int chunk) =>
        _chunks[chunk].AsSpan(0, Math.Min(ChunkSize, Count - (chunk * ChunkSize)));

    public void MarkClean() => _dirty.Clear();

    /// <summary>What a listing needs to sort by, taken under the read lock (cheap: references only).</summary>
    public OrderSnapshot SnapshotForOrder(InternTable<(string Library, string Stream)> columns) => new(Count, [.. _chunks], columns.Snapshot(), Volatile.Read(ref _order));

    /// <summary>
    /// Positions of every record of <paramref name="snapshot"/> in (worker, library, stream) order,
    /// without the lock: a record's key never changes once written. Built incrementally: only keys
    /// added since the last listing are sorted and merged in.
    /// </summary>
    public SortedOrder Order(OrderSnapshot snapshot)
    {
        var cached = snapshot.Cached;
        if (cached is not null && cached.Count == snapshot.Count)
        {
            return cached;
        }

        var from = cached is not null && cached.Count < snapshot.Count ? cached.Count : 0;
        var added = new int[snapshot.Count - from];
        for (var i = 0; i < added.Length; i++)
        {
            added[i] = from + i;
        }

        var comparer = new PositionComparer(snapshot.Chunks, snapshot.Columns);
        Array.Sort(added, comparer);
        var merged = from == 0 ? added : Merge(cached!.Positions, added, comparer);
        var order = new SortedOrder(merged, comparer);
        Volatile.Write(ref _order, order);
        return order;
    }

    public sealed record OrderSnapshot(int Count, KeyRecord[][] Chunks, (string Library, string Stream)[] Columns, SortedOrder? Cached);

    private static int[] Merge(int[] left, int[] right, PositionComparer comparer)
    {
        var merged = new int[left.Length + right.Length];
        int l = 0, r = 0, m = 0;
        while (l < left.Length && r < right.Length)
        {
            merged[m++] = comparer.Compare(left[l], right[r]) <= 0 ? left[l++] : right[r++];
        }

        while (l < left.Length)
        {
            merged[m++] = left[l++];
        }

        while (r < right.Length)
        {
            merged[m++] = right[r++];
        }

        return merged;
    }

    /// <summary>Record positions in listing order, and where a (worker, library, stream) cursor falls.</summary>
    public sealed class SortedOrder(int[] positions, PositionComparer comparer)
    {
        public int[] Positions { get; } = positions;

        public int Count => Positions.Length;

        /// <summary>The index of the first record that sorts after (worker, library, stream).</summary>
        public int After(uint worker, string library, string stream)
        {
            int low = 0, high = Positions.Length;
            while (low < high)
            {
                var middle = (low + high) >>> 1;
                if (comparer.CompareTo(Positions[middle], worker, library, stream) <= 0)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            return low;
        }
    }

    internal sealed class PositionComparer(KeyRecord[][] chunks, (string Library, string Stream)[] columns) : IComparer<int>
    {
        public int Compare(int x, int y)
        {
            ref var a = ref chunks[x / ChunkSize][x % ChunkSize];
            ref var b = ref chunks[y / ChunkSize][y % ChunkSize];
            var byWorker = a.Worker.CompareTo(b.Worker);
            return byWorker != 0 || a.Column == b.Column ? byWorker : CompareColumns(columns[a.Column], columns[b.Column]);
        }

        public int CompareTo(int position, uint worker, string library, string stream)
        {
            ref var a = ref chunks[position / ChunkSize][position % ChunkSize];
            var byWorker = a.Worker.CompareTo(worker);
            return byWorker != 0 ? byWorker : CompareColumns(columns[a.Column], (library, stream));
        }

        private static int CompareColumns((string Library, string Stream) a, (string Library, string Stream) b)
        {
            var byLibrary = string.CompareOrdinal(a.Library, b.Library);
            return byLibrary != 0 ? byLibrary : string.CompareOrdinal(a.Stream, b.Stream);
        }
    }

    private readonly record struct KeyId(uint Worker, int Column)
    {
        // Workers of one column stay in neighbouring buckets (fleets are numbered 0..N and batches ask
        // for neighbours): a million keys no longer cost a cache miss each. Columns are spread apart.
        public override int GetHashCode() => unchecked((int)(Worker + ((uint)Column * 0x9E3779B1u)));
    }
}

/// <summary>An issued key as kept in memory: its key, its seed, its first issue and its count.</summary>
internal struct KeyRecord
{
    public uint Worker;
    public int Column;
    public int FirstRequester;
    public ulong Seed64;
    public long FirstIssueUnixMs;
    public ulong IssueCount;
}
