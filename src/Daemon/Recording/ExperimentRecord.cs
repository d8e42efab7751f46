namespace SeedDaemon.Daemon.Recording;

/// <summary>An experiment as stored. Immutable; <see cref="Frozen"/> changes through the store only.</summary>
internal sealed record ExperimentRecord(
    string Id,
    UInt128 Root,
    bool RootGenerated,
    string Scheme,
    DateTime CreateTime,
    bool Frozen,
    IReadOnlyDictionary<string, string> Labels);
