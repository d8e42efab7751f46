namespace SeedDaemon.Daemon.Recording;

/// <summary>A key: (experiment, worker, library, stream). The one shape a key has from a validated request to its record.</summary>
internal readonly record struct SeedKey(string ExperimentId, uint Worker, string Library, string Stream)
{
    public override string ToString() => $"({ExperimentId}, {Worker}, {Library}, {Stream})";
}
