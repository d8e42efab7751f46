using System.Collections.Frozen;

namespace SeedDaemon.Derivation;

/// <summary>
/// The canonical libraries and the width of the seed each one takes. Any other valid name is a
/// custom library of width 64.
/// </summary>
public static class Libraries
{
    public const int CustomWidth = 64;

    public static readonly FrozenDictionary<string, int> CanonicalWidths = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["python"] = 64,
        ["python.hash"] = 32,
        ["numpy"] = 32,
        ["torch"] = 64,
        ["torch.cuda"] = 64,
        ["tensorflow"] = 63,
        ["keras"] = 32,
        ["jax"] = 32,
        ["sklearn"] = 32,
        ["dotnet"] = 31,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static int WidthOf(string library) =>
        CanonicalWidths.TryGetValue(library, out var width) ? width : CustomWidth;

    public static ulong Truncate(ulong seed64, int width) =>
        width >= 64 ? seed64 : seed64 & ((1UL << width) - 1);
}
