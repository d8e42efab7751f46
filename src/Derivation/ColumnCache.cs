using System.Collections.Concurrent;

namespace SeedDaemon.Derivation;

/// <summary>
/// A bounded, thread-safe cache of <see cref="SeedColumn"/>s. A fleet asks for a handful of
/// columns per experiment, so the cache is small; when it fills up it is simply cleared.
/// </summary>
public sealed class ColumnCache(int capacity = 4096)
{
    private readonly ConcurrentDictionary<(UInt128 Root, string Library, string Stream), SeedColumn> _columns = new();

    public SeedColumn Get(UInt128 root, string library, string stream)
    {
        if (_columns.TryGetValue((root, library, stream), out var column))
        {
            return column;
        }

        if (_columns.Count >= capacity)
        {
            _columns.Clear();
        }

        column = SeedColumn.Create(root, library, stream);
        _columns.TryAdd((root, library, stream), column);
        return column;
    }
}
