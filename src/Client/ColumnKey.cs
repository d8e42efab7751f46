using SeedDaemon.Derivation;

namespace SeedDaemon.Client;

/// <summary>A (library, stream) column: what a process seeds, e.g. ("torch", "") or ("torch", "dataloader").</summary>
public readonly record struct ColumnKey(string Library, string Stream = "")
{
    /// <summary>What most training processes seed: Python, its hash seed, NumPy, torch CPU and CUDA, and .NET.</summary>
    public static IReadOnlyList<ColumnKey> Default { get; } =
    [
        new("python"),
        new("python.hash"),
        new("numpy"),
        new("torch"),
        new("torch.cuda"),
        new("dotnet"),
    ];

    /// <summary>Parses "library" or "library/stream".</summary>
    public static ColumnKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var key = slash < 0 ? new ColumnKey(text) : new ColumnKey(text[..slash], text[(slash + 1)..]);
        if (!KeyRules.IsValidName(key.Library) || !KeyRules.IsValidStream(key.Stream) || (slash >= 0 && key.Stream.Length == 0))
        {
            throw new FormatException($"'{text}' is not LIBRARY or LIBRARY/STREAM with names matching ^[a-z0-9][a-z0-9._-]{{0,63}}$.");
        }

        return key;
    }

    public override string ToString() => Stream.Length == 0 ? Library : $"{Library}/{Stream}";
}
