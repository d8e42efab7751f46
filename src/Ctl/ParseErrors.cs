using System.Text.RegularExpressions;

namespace SeedDaemon.Ctl;

/// <summary>
/// System.CommandLine names .NET types in its errors ("Cannot parse argument 'yesterday' for option
/// '--since' as expected type 'System.Nullable`1[System.DateTimeOffset]'"); a user needs to hear
/// what the option takes.
/// </summary>
public static partial class ParseErrors
{
    public static string Describe(string message)
    {
        var match = CannotParse().Match(message);
        if (!match.Success)
        {
            return message;
        }

        var (value, option, type) = (match.Groups["value"].Value, match.Groups["option"].Value, match.Groups["type"].Value);
        var expected = type switch
        {
            _ when type.Contains("DateTimeOffset", StringComparison.Ordinal) => "a time in ISO 8601, e.g. 2026-11-24 or 2026-11-24T09:30:00Z",
            _ when type.Contains("UInt32", StringComparison.Ordinal) => "a whole number from 0 to 4294967295",
            _ when type.Contains("UInt64", StringComparison.Ordinal) => "a whole number from 0 to 18446744073709551615",
            _ when type.Contains("Int32", StringComparison.Ordinal) || type.Contains("Int64", StringComparison.Ordinal) => "a whole number",
            _ => "a value of another kind",
        };
        return $"{option}: '{value}' is not {expected}.";
    }

    [GeneratedRegex(@"Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial Regex CannotParse();
}
