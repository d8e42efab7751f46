namespace SeedDaemon.Daemon.Recording;

/// <summary>One issued key as stored: the seed handed out, who asked first and when, and how often it was asked for.</summary>
internal sealed record SeedRecord(
    string ExperimentId,
    uint Worker,
    string Library,
    string Stream,
    ulong Seed64,
    DateTime FirstIssueTime,
    string FirstRequester,
    ulong IssueCount);

/// <summary>A key to record together with the seed derived for it.</summary>
internal readonly record struct SeedIssue(string ExperimentId, uint Worker, string Library, string Stream, ulong Seed64);
