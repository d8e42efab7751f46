namespace SeedDaemon.Daemon.Audit;

/// <summary>What the scrub reports while it runs.</summary>
internal abstract record ScrubUpdate
{
    /// <summary>Where it is: records read so far, the experiment being read.</summary>
    public sealed record Progress(ScrubCounts Counts, string Experiment, int ExperimentsDone, int ExperimentsTotal) : ScrubUpdate;

    /// <summary>One thing that is not as written; <see cref="Where"/> names the experiment, key, event, run or document.</summary>
    public sealed record Finding(string Experiment, string Where, string Problem) : ScrubUpdate;
}

/// <summary>Records read by a scrub, by kind.</summary>
internal sealed class ScrubCounts
{
    public long Documents;
    public long Experiments;
    public long Events;
    public long Seeds;
    public long Fingerprints;

    public long Total => Documents + Events + Seeds + Fingerprints;

    public ScrubCounts Copy() => (ScrubCounts)MemberwiseClone();
}

/// <summary>A finished scrub: what it read, how many findings, how long it took.</summary>
internal sealed record ScrubSummary(ScrubCounts Counts, long Findings, TimeSpan Elapsed);
