using Grpc.Core;

namespace SeedDaemon.Client;

/// <summary>What a failed call says, for people.</summary>
public static class RpcErrors
{
    /// <summary>
    /// The status detail, with the transport's own reason when gRPC's detail hides it: a daemon that
    /// is not running reads "Error connecting to subchannel. (Connection refused)", not only the first half.
    /// </summary>
    public static string Describe(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var detail = error.Status.Detail;
        var cause = error.Status.DebugException?.GetBaseException().Message;
        return string.IsNullOrEmpty(cause) || detail.Contains(cause, StringComparison.Ordinal) ? detail : $"{detail} ({cause})";
    }

    /// <summary>
    /// The status came from the server (a daemon that answered, say, that its database is down),
    /// not from the client's transport (nothing answered): only a transport failure carries the
    /// exception that caused it.
    /// </summary>
    public static bool IsFromServer(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.Status.DebugException is null;
    }
}
