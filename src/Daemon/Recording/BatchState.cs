using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// What the issuance rules read while planning a batch, as the backend holds it: LiteDB from memory
/// (one writer), PostgreSQL from rows read under the experiments' row locks in the batch's transaction.
/// </summary>
internal interface IBatchState
{
    /// <summary>The experiment and its chain head; null when it does not exist.</summary>
    ExperimentState? Experiment(string experimentId);

    /// <summary>The issued key's state; null when the key was never issued.</summary>
    KeyState? Key(SeedKey key);

    /// <summary>A process of a run; null when nothing was recorded for it.</summary>
    ProcessRecord? Process(ProcessKey key);

    /// <summary>The fingerprint recorded for a process at a step; null when none. Asked only for steps at or below the process's last.</summary>
    StepFingerprint? Fingerprint(ProcessKey key, long step);

    /// <summary>
    /// Before a process's new steps from <paramref name="firstNewStep"/> on are planned after its stored
    /// <paramref name="lastStep"/>: a backend that rewrites what holds the last step (the embedded store's
    /// blocks) reads it here, so one it cannot read refuses this report alone (a <see cref="SeedDaemonException"/>),
    /// not the whole batch it would travel in.
    /// </summary>
    void CheckAppend(ProcessKey key, long lastStep, long firstNewStep)
    {
    }
}

/// <summary>
/// An experiment with its chain head and its tree's right edge (<see cref="Tree"/>, of
/// <see cref="ChainHead.Sequence"/> leaves): as the backend holds it, or, in a <see cref="PreparedBatch"/>,
/// as the batch leaves it (<see cref="IsNew"/>: the batch creates it). Nobody changes a state's
/// tree: the planner grows a copy.
/// </summary>
internal sealed record ExperimentState(ExperimentRecord Record, ChainHead Head, MerkleFrontier Tree, bool IsNew = false);

/// <summary>What is stored of an issued key: its seed, its first issue (time in Unix ms, requester) and how often it was asked for.</summary>
internal readonly record struct KeyState(ulong Seed64, long FirstIssueUnixMs, string FirstRequester, ulong IssueCount);
