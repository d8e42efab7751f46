using SeedDaemon.Daemon.Storage;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>A seed as answered: the derivation (with its SeedSequence state) and its durable record.</summary>
public sealed record IssuedSeedResult(SeedRecord Record, DerivedSeed Derived, UInt128 Root);
