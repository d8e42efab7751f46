using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>A seed as answered: the derivation (with its SeedSequence state) and its durable record.</summary>
internal sealed record IssuedSeedResult(SeedRecord Record, DerivedSeed Derived, UInt128 Root)
{
    /// <summary>A stored record with its derivation (SeedSequence state, spawn key) recomputed; nothing else is stored.</summary>
    public static IssuedSeedResult Of(SeedRecord record, ExperimentRecord experiment, ColumnCache columns) =>
        new(record, columns.Get(experiment.Root, record.Library, record.Stream).Derive(record.Worker), experiment.Root);
}
