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
        if (!authenticator.Enabled)
        {
            return;
        }

        var allowed = Roles.Allowed(context.Method);
        var header = context.RequestHeaders.GetValue("authorization");
        if (header is null)
        {
            if (allowed is null)
            {
                return;
            }

            throw new RpcException(new Status(StatusCode.Unauthenticated, "seedd requires a bearer token: send the metadata 'authorization: Bearer TOKEN'."));
        }

        const string Scheme = "Bearer ";
        var principal = header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? authenticator.Authenticate(header[Scheme.Length..].Trim()) : null;
        if (principal is null)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "The bearer token is not valid for this daemon."));
        }

        if (allowed is not null && !allowed.Contains(principal.Role))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"Token '{principal.Name}' has role {principal.Role}; {context.Method} needs {string.Join(" or ", allowed)}."));
        }

        context.GetHttpContext().Items[Requester.PrincipalKey] = principal.Name;
    }
}
