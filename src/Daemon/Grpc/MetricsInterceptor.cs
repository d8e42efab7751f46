using Grpc.Core;
using Grpc.Core.Interceptors;
using SeedDaemon.Daemon.Operations;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>Counts every call by method and final status code, for /metrics.</summary>
internal sealed class MetricsInterceptor(Metrics metrics) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            var response = await continuation(request, context);
            metrics.Request(context.Method, nameof(StatusCode.OK));
            return response;
        }
        catch (RpcException error)
        {
            metrics.Request(context.Method, error.StatusCode.ToString());
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
            metrics.Request(context.Method, nameof(StatusCode.OK));
        }
        catch (RpcException error)
        {
            metrics.Request(context.Method, error.StatusCode.ToString());
            throw;
        }
    }
}
