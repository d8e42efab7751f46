namespace SeedDaemon.Daemon;

/// <summary>What went wrong, in terms a client can act on. Grpc/ErrorInterceptor maps each to a status code.</summary>
internal enum ErrorKind
{
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    ResourceExhausted,
    Unavailable,

    /// <summary>What the store holds is damaged: the answer would not be what was recorded.</summary>
    DataLoss,

    /// <summary>Past the end of what exists now (a tree size larger than the log): it may be valid later.</summary>
    OutOfRange,
}

/// <summary>
/// An error the client caused or can retry. <see cref="Field"/> names the offending request field
/// for <see cref="ErrorKind.InvalidArgument"/> (e.g. <c>requests[3].library</c>).
/// </summary>
internal sealed class SeedDaemonException(ErrorKind kind, string message, string? field = null) : Exception(message)
{
    public ErrorKind Kind { get; } = kind;

    public string? Field { get; } = field;

    public static SeedDaemonException Invalid(string field, string message) => new(ErrorKind.InvalidArgument, message, field);

    public static SeedDaemonException ExperimentNotFound(string experimentId, string field = "experiment_id") =>
        new(ErrorKind.NotFound, $"Experiment '{experimentId}' does not exist; create it first.", field);
}
