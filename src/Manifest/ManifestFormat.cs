namespace SeedDaemon.Manifest;

/// <summary>
/// The manifest, one JSON document per experiment (see docs/audit.md, "The manifest"): format, ledger_format,
/// exported_at, experiment, seeds[], events[], chain_head, tree (v2: the signed checkpoint of the events),
/// runs[], fingerprints[]. 64-bit integers are strings.
/// </summary>
internal static class ManifestFormat
{
    public const string Format = "seedd-manifest-v2";

    /// <summary>Manifests written before the ledger became a tree: no "tree" (they still verify).</summary>
    public const string FormatV1 = "seedd-manifest-v1";
}
