namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// Small values that many issued keys share, each kept once and referred to by number: the
/// (library, stream) columns and the first requesters. Added to by the group-commit thread under
/// the store's write lock only; read by it freely and by others under the read lock.
/// </summary>
internal sealed class ColumnTable
{
    private readonly List<(string Library, string Stream)> _columns = [];
    private readonly Dictionary<(string, string), int> _ids = [];

    public int Count => _columns.Count;

    public (string Library, string Stream) this[int id] => _columns[id];

    public bool TryFind(string library, string stream, out int id) => _ids.TryGetValue((library, stream), out id);

    public int GetOrAdd(string library, string stream)
    {
        if (!_ids.TryGetValue((library, stream), out var id))
        {
            id = _columns.Count;
            _columns.Add((library, stream));
            _ids[(library, stream)] = id;
        }

        return id;
    }

    public (string Library, string Stream)[] Snapshot() => [.. _columns];
}

/// <summary>Strings (first requesters) kept once each and referred to by number.</summary>
internal sealed class StringTable
{
    private readonly List<string> _values = [];
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    public string this[int id] => _values[id];

    public int GetOrAdd(string value)
    {
        if (!_ids.TryGetValue(value, out var id))
        {
            id = _values.Count;
            _values.Add(value);
            _ids[value] = id;
        }

        return id;
    }
}
