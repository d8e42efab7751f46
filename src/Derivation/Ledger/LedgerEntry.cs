namespace SeedDaemon.Derivation.Ledger;

/// <summary>
/// One request event of an experiment's ledger: which key was asked for, the seed returned, and
/// who asked. Events of an experiment form a hash chain (see <see cref="LedgerHash"/>).
/// </summary>
public sealed record LedgerEntry(
    string ExperimentId,
    ulong Sequence,
    long TimeUnixMilliseconds,
    uint Worker,
    string Library,
    string Stream,
    ulong Seed64,
    string Principal,
    string Peer,
    string ClientHost,
    long ClientPid,
    IReadOnlyDictionary<string, string> ClientLabels);
