namespace SeedDaemon.Daemon.Recording;

/// <summary>Told what the store's writes cost (for /metrics), by whichever backend.</summary>
internal interface IRecordingObserver
{
    /// <summary>A group commit of <paramref name="operations"/> became durable <paramref name="duration"/> after it started.</summary>
    void Committed(int operations, TimeSpan duration);

    /// <summary>A write was answered <paramref name="waited"/> after its request handed it to the store (queue and commit).</summary>
    void Answered(TimeSpan waited);

    /// <summary>An entry was placed in its experiment's log <paramref name="delay"/> after it was issued (PostgreSQL's sequencer).</summary>
    void Integrated(TimeSpan delay)
    {
    }
}
