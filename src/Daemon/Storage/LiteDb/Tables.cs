namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// Small values that many issued keys share, each kept once and referred to by number: the
/// (library, stream) columns and the first requesters. Added to by the group-commit thread under
/// the store's write lock only; read by it freely and by others under the read lock.
/// </summary>
internal sealed class InternTable<T>(IEqualityComparer<T>? comparer = null)
    where T : notnull
{
    private readonly List<T> _values = [];
    private readonly Dictionary<T, int> _ids = new(comparer);

    public int Count => _values.Count;

    public T this[int id] => _values[id];

    public bool TryFind(T value, out int id) => _ids.TryGetValue(value, out id);

    public int GetOrAdd(T value)
    {
        if (!_ids.TryGetValue(value, out var id))
        {
            id = _values.Count;
            _values.Add(value);
            _ids[value] = id;
        }

        return id;
    }

    public T[] Snapshot() => [.. _values];
}
