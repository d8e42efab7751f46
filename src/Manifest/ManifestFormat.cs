namespace SeedDaemon.Manifest;

/// <summary>
/// The manifest, one JSON document per experiment (see docs/audit.md, "The manifest"): format, ledger_format,
/// exported_at, experiment, seeds[], events[], chain_head. 64-bit integers are strings.
/// </summary>
internal static class ManifestFormat
{
    public const string Format = "seedd-manifest-v1";
}
