using Grpc.Core;
using Grpc.Core.Interceptors;
using SeedDaemon.Daemon.Security;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>
/// Bearer tokens and roles. Without configured tokens every caller is anonymous and allowed (the
/// daemon then listens only where that is safe, see SeeddOptionsValidator). With tokens: no or a
/// wrong token is UNAUTHENTICATED, a role that may not call the method is PERMISSION_DENIED.
/// The principal's name goes into the ledger.
/// </summary>
internal sealed class AuthInterceptor(TokenAuthenticator authenticator) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Authorize(ServerCallContext context)
    {
        try
        {
            if (authenticator.Authorize(context.Method, context.RequestHeaders.GetValue("authorization")) is { } principal)
            {
                context.GetHttpContext().Items[Requester.PrincipalKey] = principal;
            }
        }
        catch (AccessDeniedException denied)
        {
            throw new RpcException(new Status(denied.Authenticated ? StatusCode.PermissionDenied : StatusCode.Unauthenticated, denied.Message));
        }
    }
}
