namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// What the issuance rules read while planning a batch, as the backend holds it: LiteDB from memory
/// (one writer), PostgreSQL from rows read under the experiments' row locks in the batch's transaction.
/// </summary>
internal interface IBatchState
{
    /// <summary>The experiment and its chain head; null when it does not exist.</summary>
    ExperimentState? Experiment(string experimentId);

    /// <summary>The issued key's record; null when the key was never issued.</summary>
    KeyState? Key(string experimentId, uint worker, string library, string stream);
}

internal sealed record ExperimentState(ExperimentRecord Record, ChainHead Head);

/// <summary>An issued key as stored: its seed, its first issue (time in Unix ms, requester) and how often it was asked for.</summary>
internal readonly record struct KeyState(ulong Seed64, long FirstIssueUnixMs, string FirstRequester, ulong IssueCount);
