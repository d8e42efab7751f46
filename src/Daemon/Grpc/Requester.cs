using Grpc.Core;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>Who is asking, as recorded with an issue: the peer address until authentication names a principal.</summary>
internal static class Requester
{
    public static string Of(ServerCallContext context) => string.IsNullOrEmpty(context.Peer) ? "unknown" : context.Peer;
}
