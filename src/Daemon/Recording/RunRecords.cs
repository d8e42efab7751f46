namespace SeedDaemon.Daemon.Recording;

/// <summary>One process of one run: what fingerprints and environments are recorded under.</summary>
internal readonly record struct ProcessKey(string ExperimentId, string RunId, uint Worker);

/// <summary>The run and step a process continued from (its checkpoint's).</summary>
internal sealed record ResumePoint(string RunId, long Step);

/// <summary>What a digest is of; the numbers are the contract's DigestKind.</summary>
internal enum DigestKind
{
    Generator = 1,
    Scalar = 2,
    Tensor = 3,
    Bytes = 4,
}

/// <summary>One named digest at a step: a generator's state, a scalar's bits, a tensor's or bytes' digest.</summary>
internal sealed record Digest(string Name, DigestKind Kind, byte[] Value);

/// <summary>What one process reported at one step, digests in the order given (names unique).</summary>
internal sealed record StepFingerprint(long Step, IReadOnlyList<Digest> Digests)
{
    /// <summary>The names whose digests differ from <paramref name="other"/>'s, or that only one of them has.</summary>
    public IReadOnlyList<string> Differences(StepFingerprint other)
    {
        var theirs = other.Digests.ToDictionary(d => d.Name, StringComparer.Ordinal);
        var names = new List<string>();
        foreach (var digest in Digests)
        {
            if (!theirs.Remove(digest.Name, out var match) || match.Kind != digest.Kind || !match.Value.AsSpan().SequenceEqual(digest.Value))
            {
                names.Add(digest.Name);
            }
        }

        names.AddRange(theirs.Keys);
        names.Sort(StringComparer.Ordinal);
        return names;
    }
}

/// <summary>A fingerprint as stored and read back: whose, and what.</summary>
internal sealed record FingerprintRecord(ProcessKey Key, StepFingerprint Fingerprint);

/// <summary>A step reported again with other digests than the recorded ones (which were kept).</summary>
internal sealed record StepConflict(long Step, IReadOnlyList<string> Names);

/// <summary>
/// A process of a run as stored: its environment (the first recorded), what it resumed from, and
/// its coverage: first and last step, steps recorded, conflicts (the first <see cref="MaxConflictsListed"/> listed).
/// </summary>
internal sealed record ProcessRecord(
    ProcessKey Key,
    IReadOnlyDictionary<string, string> Environment,
    ResumePoint? ResumedFrom,
    long StartUnixMs,
    long FirstStep,
    long LastStep,
    long Steps,
    long ConflictCount,
    IReadOnlyList<StepConflict> Conflicts)
{
    public const int MaxConflictsListed = 32;

    /// <summary>A process first seen now, with nothing reported yet.</summary>
    public static ProcessRecord New(ProcessKey key, IReadOnlyDictionary<string, string> environment, ResumePoint? resumedFrom, long now) =>
        new(key, environment, resumedFrom, now, -1, -1, 0, 0, []);
}

/// <summary>What one report did: steps recorded, repeats of recorded steps (identical), conflicts (kept out).</summary>
internal readonly record struct FingerprintReceipt(long Recorded, long Repeats, long Conflicts);

/// <summary>An experiment's run, summed over its processes.</summary>
internal sealed record RunSummary(string RunId, long Processes, long StartUnixMs, long FirstStep, long LastStep, long Fingerprints, long Conflicts, ResumePoint? ResumedFrom)
{
    /// <summary>The runs of <paramref name="processes"/> (one experiment's), in order of their first record.</summary>
    public static IReadOnlyList<RunSummary> Of(IEnumerable<ProcessRecord> processes) =>
        processes.GroupBy(p => p.Key.RunId, StringComparer.Ordinal)
            .Select(run => new RunSummary(
                run.Key,
                run.LongCount(),
                run.Min(p => p.StartUnixMs),
                run.Where(p => p.Steps > 0).Select(p => p.FirstStep).DefaultIfEmpty(-1).Min(),
                run.Max(p => p.LastStep),
                run.Sum(p => p.Steps),
                run.Sum(p => p.ConflictCount),
                run.OrderBy(p => p.Key.Worker).FirstOrDefault(p => p.ResumedFrom is not null)?.ResumedFrom))
            .OrderBy(r => r.StartUnixMs)
            .ThenBy(r => r.RunId, StringComparer.Ordinal)
            .ToList();
}
