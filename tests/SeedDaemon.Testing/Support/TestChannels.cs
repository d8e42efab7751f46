using Grpc.Net.Client;
using SeedDaemon.Client;

namespace SeedDaemon.Testing;

/// <summary>
/// A plain gRPC channel for tests that need one (no SDK defaults, or larger messages), with the
/// SDK's receive window so that no large answer waits for an HTTP/2 window update.
/// </summary>
public static class TestChannels
{
    public static GrpcChannel Create(string address, int? maxReceiveMessageSize = null)
    {
        var options = new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler { InitialHttp2StreamWindowSize = Channels.ResponseWindowBytes } };
        if (maxReceiveMessageSize is { } size)
        {
            options.MaxReceiveMessageSize = size;
        }

        return GrpcChannel.ForAddress(address, options);
    }
}
