using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>
/// The one place where exceptions become gRPC statuses. Client-caused and retryable errors get
/// their meaningful code (with a google.rpc.BadRequest naming the field for INVALID_ARGUMENT);
/// only a fault of the daemon itself is INTERNAL, and it is logged.
/// </summary>
internal sealed class ErrorInterceptor(ILogger<ErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception error) when (error is not RpcException)
        {
            throw ToRpcException(error, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception error) when (error is not RpcException)
        {
            throw ToRpcException(error, context);
        }
    }

    private RpcException ToRpcException(Exception error, ServerCallContext context)
    {
        if (error is OperationCanceledException && context.CancellationToken.IsCancellationRequested)
        {
            return new RpcException(new global::Grpc.Core.Status(StatusCode.Cancelled, "The call was cancelled by the client or its deadline passed."));
        }

        if (error is SeedDaemonException known)
        {
            return ToRpcException(known);
        }

        ServerLog.UnhandledError(logger, context.Method, error);
        return new RpcException(new global::Grpc.Core.Status(StatusCode.Internal, "seedd failed internally; the error is in its log. Nothing was issued."));
    }

    private static RpcException ToRpcException(SeedDaemonException error) => ToStatus(error).ToRpcException();

    /// <summary>The google.rpc.Status a domain error is answered with (gRPC here; the manifest document endpoint writes it as JSON).</summary>
    public static Google.Rpc.Status ToStatus(SeedDaemonException error)
    {
        var status = new Google.Rpc.Status
        {
            Code = (int)CodeOf(error.Kind),
            Message = error.Message,
        };

        if (error.Field is not null && error.Kind == ErrorKind.InvalidArgument)
        {
            status.Details.Add(Any.Pack(new BadRequest
            {
                FieldViolations = { new BadRequest.Types.FieldViolation { Field = error.Field, Description = error.Message } },
            }));
        }
        else if (error.Kind is ErrorKind.NotFound or ErrorKind.AlreadyExists && error.Field is not null)
        {
            status.Details.Add(Any.Pack(new ResourceInfo { ResourceType = "seeddaemon.v1.Experiment", Description = error.Message }));
        }

        return status;
    }

    private static StatusCode CodeOf(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument => StatusCode.InvalidArgument,
        ErrorKind.NotFound => StatusCode.NotFound,
        ErrorKind.AlreadyExists => StatusCode.AlreadyExists,
        ErrorKind.FailedPrecondition => StatusCode.FailedPrecondition,
        ErrorKind.ResourceExhausted => StatusCode.ResourceExhausted,
        ErrorKind.Unavailable => StatusCode.Unavailable,
        ErrorKind.DataLoss => StatusCode.DataLoss,
        ErrorKind.OutOfRange => StatusCode.OutOfRange,
        _ => StatusCode.Internal,
    };
}
