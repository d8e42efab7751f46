namespace SeedDaemon.Ctl.Runs;

/// <summary>
/// Processes × steps, one byte a cell, for the HTML report: what each cell was when the two runs
/// were merged. Steps arrive in ascending order (both streams are), so a new step is a new column.
/// </summary>
public sealed class DiffGrid
{
    public const byte Absent = 0;
    public const byte Equal = 1;
    public const byte Differs = 2;
    public const byte OnlyA = 3;
    public const byte OnlyB = 4;

    private readonly List<long> _steps = [];
    private readonly Dictionary<uint, List<byte>> _rows = [];

    public IReadOnlyList<long> Steps => _steps;

    public IReadOnlyList<uint> Workers => _rows.Keys.Order().ToList();

    public void Set(uint worker, long step, byte status)
    {
        if (_steps.Count == 0 || _steps[^1] != step)
        {
            _steps.Add(step);
        }

        if (!_rows.TryGetValue(worker, out var row))
        {
            _rows[worker] = row = [];
        }

        while (row.Count < _steps.Count - 1)
        {
            row.Add(Absent);
        }

        row.Add(status);
    }

    /// <summary>Rows in worker order, each as long as the grid is wide.</summary>
    public byte[] Cells()
    {
        var cells = new byte[_rows.Count * _steps.Count];
        var r = 0;
        foreach (var worker in Workers)
        {
            var row = _rows[worker];
            for (var c = 0; c < row.Count; c++)
            {
                cells[(r * _steps.Count) + c] = row[c];
            }

            r++;
        }

        return cells;
    }
}
