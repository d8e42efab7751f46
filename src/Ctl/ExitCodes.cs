using Grpc.Core;

namespace SeedDaemon.Ctl;

/// <summary>seedctl's exit codes; scripts can tell failures apart.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Unavailable = 3;
    public const int NotFound = 4;
    public const int VerificationFailed = 5;
    public const int InvalidArgument = 6;
    public const int AlreadyExists = 7;
    public const int FailedPrecondition = 8;
    public const int PermissionDenied = 9;
    public const int Unauthenticated = 10;

    /// <summary>The one place a daemon status becomes an exit code.</summary>
    public static int Of(StatusCode status) => status switch
    {
        StatusCode.Unavailable or StatusCode.DeadlineExceeded => Unavailable,
        StatusCode.NotFound => NotFound,
        StatusCode.InvalidArgument or StatusCode.OutOfRange => InvalidArgument,
        StatusCode.AlreadyExists => AlreadyExists,
        StatusCode.FailedPrecondition => FailedPrecondition,
        StatusCode.Unauthenticated => Unauthenticated,
        StatusCode.PermissionDenied => PermissionDenied,
        _ => Failed,
    };
}
