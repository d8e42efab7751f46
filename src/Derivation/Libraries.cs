using System.Buffers;
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

    /// <summary>
    /// The label an experiment declares its own libraries with, when one of them is close to a
    /// canonical name: <c>seedd.custom-libraries=pytorch,tf2</c>.
    /// </summary>
    public const string CustomLibrariesLabel = "seedd.custom-libraries";

    private static readonly SearchValues<char> Digits = SearchValues.Create("0123456789");

    /// <summary>Names people write for a canonical library.</summary>
    private static readonly FrozenDictionary<string, string> Aliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["pytorch"] = "torch",
        ["tf"] = "tensorflow",
        ["np"] = "numpy",
        ["random"] = "python",
        ["scikit-learn"] = "sklearn",
        ["scikit"] = "sklearn",
        ["sk-learn"] = "sklearn",
        ["pythonhashseed"] = "python.hash",
        ["system.random"] = "dotnet",
        ["csharp"] = "dotnet",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>
    /// The canonical library a name that is not one most likely means, or null: an alias (pytorch,
    /// tf, np), a canonical name with a version number (numpy2, python3), or a name of seven or
    /// more characters one edit from a canonical one (tensorflw, sklaern). Such a name is a typo far
    /// more often than a library of its own, and a typo is issued a 64-bit seed the library never
    /// gets. Short near-misses (cython, jython, torchx, ajax, jaxb, numba) stay libraries of their own.
    /// </summary>
    public static string? CloseCanonical(string library)
    {
        if (CanonicalWidths.ContainsKey(library))
        {
            return null;
        }

        if (Aliases.TryGetValue(library, out var alias))
        {
            return alias;
        }

        foreach (var canonical in CanonicalWidths.Keys)
        {
            if (library.Length > canonical.Length && library.StartsWith(canonical, StringComparison.Ordinal) && library.AsSpan(canonical.Length).IndexOfAnyExcept(Digits) < 0)
            {
                return canonical;
            }
        }

        if (library.Length < 7)
        {
            return null;
        }

        var best = CanonicalWidths.Keys.Select(c => (Name: c, Distance: Spelling.EditDistance(library, c))).MinBy(c => c.Distance);
        return best.Distance == 1 ? best.Name : null;
    }

    /// <summary>The libraries an experiment's labels declare as its own (<see cref="CustomLibrariesLabel"/>).</summary>
    public static bool IsDeclared(IReadOnlyDictionary<string, string> labels, string library) =>
        labels.TryGetValue(CustomLibrariesLabel, out var declared) && declared.Split(',').Any(d => d.Trim() == library);

    public static int WidthOf(string library) =>
        CanonicalWidths.TryGetValue(library, out var width) ? width : CustomWidth;

    public static ulong Truncate(ulong seed64, int width) =>
        width >= 64 ? seed64 : seed64 & ((1UL << width) - 1);
}
