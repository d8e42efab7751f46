using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>A seed as the domain answers it: its durable record, its derivation (SeedSequence state, spawn key) and the experiment's root.</summary>
internal sealed record SeedAnswer(SeedRecord Record, DerivedSeed Derived, UInt128 Root)
{
    /// <summary>A stored record with its derivation recomputed; nothing else is stored.</summary>
    public static SeedAnswer Of(SeedRecord record, ExperimentRecord experiment, ColumnCache columns) =>
        new(record, columns.Get(experiment.Root, record.Key.Library, record.Key.Stream).Derive(record.Key.Worker), experiment.Root);
}
