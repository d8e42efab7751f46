namespace SeedDaemon.Daemon.Audit;

/// <summary>Section "Seedd:Scrub": the store check (scrub) in the background.</summary>
internal sealed class ScrubOptions
{
    /// <summary>Seconds between background store checks (the first one this long after start; 86400: daily); 0 (the default): none.</summary>
    public int IntervalSeconds { get; set; }

    /// <summary>The share of the time a store check may spend reading, in percent (1-100): it pauses after each page for the rest.</summary>
    public int DutyPercent { get; set; } = 10;
}
