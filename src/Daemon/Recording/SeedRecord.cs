namespace SeedDaemon.Daemon.Recording;

/// <summary>An issued key as read back: the seed handed out, who asked first and when, and how often it was asked for.</summary>
internal sealed record SeedRecord(SeedKey Key, ulong Seed64, DateTime FirstIssueTime, string FirstRequester, ulong IssueCount);

/// <summary>A key to record as issued, with the seed derived for it (the store checks it against a stored one).</summary>
internal readonly record struct SeedIssue(SeedKey Key, ulong Seed64);
