using System.Text;

namespace SeedDaemon.Ctl.Output;

/// <summary>A plain text table: a header row and left-aligned columns two spaces apart.</summary>
public sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public Table Add(params object?[] cells)
    {
        _rows.Add(cells.Select(c => Convert.ToString(c, System.Globalization.CultureInfo.InvariantCulture) ?? "").ToArray());
        return this;
    }

    public override string ToString()
    {
        var widths = headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        void Line(IReadOnlyList<string> cells) =>
            text.AppendLine(string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i]))).TrimEnd());
        Line(headers);
        foreach (var row in _rows)
        {
            Line(row);
        }

        return text.ToString();
    }
}
