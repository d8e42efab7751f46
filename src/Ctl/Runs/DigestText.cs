using System.Globalization;
using SeedDaemon.Manifest;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Runs;

/// <summary>How a digest reads to a person: a scalar as its number (and bits), anything else as hex.</summary>
public static class DigestText
{
    public static string Kind(DigestKind kind) => ManifestWriter.KindName(kind);

    public static string Value(DigestKind kind, byte[] value) =>
        value.Length == 0 ? "(absent)"
        : kind == DigestKind.Scalar && value.Length == 8
            ? string.Create(CultureInfo.InvariantCulture, $"{BitConverter.ToDouble(value):R} (bits {BitConverter.ToUInt64(value):x16})")
            : Convert.ToHexStringLower(value);
}
