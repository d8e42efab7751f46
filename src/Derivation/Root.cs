using System.Globalization;
using System.Security.Cryptography;

namespace SeedDaemon.Derivation;

/// <summary>An experiment's root: the SeedSequence entropy, 0 &lt;= root &lt; 2^128, written in decimal.</summary>
public static class Root
{
    /// <summary>Parses a decimal root: ASCII digits only, no sign, no spaces, below 2^128.</summary>
    public static bool TryParse(string? text, out UInt128 root)
    {
        root = UInt128.Zero;
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return UInt128.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out root);
    }

    public static string Format(UInt128 root) => root.ToString(CultureInfo.InvariantCulture);

    /// <summary>128 bits from the operating system's CSPRNG.</summary>
    public static UInt128 Generate()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return new UInt128(
            BitConverter.ToUInt64(bytes[8..]),
            BitConverter.ToUInt64(bytes[..8]));
    }
}
