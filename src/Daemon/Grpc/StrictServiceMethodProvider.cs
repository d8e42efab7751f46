using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>
/// Binds gRPC services like Grpc.AspNetCore's own provider, with one difference: a request that
/// is not a valid protobuf message (random bytes, truncated, wrong wire types, bad lengths) is
/// answered INVALID_ARGUMENT instead of UNKNOWN. The generated BindService method lists the
/// methods; each gets its request marshaller wrapped and an invoker for the service's method of
/// the same name.
/// </summary>
internal sealed class StrictServiceMethodProvider<TService> : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        var bindMethod = FindBindMethod();
        if (bindMethod is null)
        {
            return;
        }

        var binder = new Binder(context);
        bindMethod.Invoke(null, [binder, null]);
    }

    private static MethodInfo? FindBindMethod()
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>() is { } attribute)
            {
                return attribute.BindType.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                    .Single(m => m.Name == attribute.BindMethodName && m.GetParameters() is [{ ParameterType: var first }, _] && first == typeof(ServiceBinderBase));
            }
        }

        return null;
    }

    private sealed class Binder(ServiceMethodProviderContext<TService> context) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Strict(method), Metadata(method), Invoker<UnaryServerMethod<TService, TRequest, TResponse>>(method));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Strict(method), Metadata(method), Invoker<ServerStreamingServerMethod<TService, TRequest, TResponse>>(method));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Strict(method), Metadata(method), Invoker<ClientStreamingServerMethod<TService, TRequest, TResponse>>(method));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Strict(method), Metadata(method), Invoker<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(method));

        private static Method<TRequest, TResponse> Strict<TRequest, TResponse>(Method<TRequest, TResponse> method)
            where TRequest : class
            where TResponse : class
        {
            var inner = method.RequestMarshaller;
            var strict = Marshallers.Create<TRequest>(
                (request, serialization) => inner.ContextualSerializer(request, serialization),
                deserialization =>
                {
                    try
                    {
                        return inner.ContextualDeserializer(deserialization);
                    }
                    catch (Exception error) when (error is InvalidProtocolBufferException or InvalidOperationException or ArgumentException or OverflowException)
                    {
                        throw new RpcException(new Status(StatusCode.InvalidArgument, $"The request is not a valid {typeof(TRequest).Name} message: {error.Message}"));
                    }
                });
            return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, strict, method.ResponseMarshaller);
        }

        private static List<object> Metadata(IMethod method) =>
            [.. typeof(TService).GetCustomAttributes(inherit: true), .. Implementation(method).GetCustomAttributes(inherit: true)];

        private static TDelegate Invoker<TDelegate>(IMethod method)
            where TDelegate : Delegate =>
            Implementation(method).CreateDelegate<TDelegate>();

        private static MethodInfo Implementation(IMethod method) =>
            typeof(TService).GetMethod(method.Name, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new InvalidOperationException($"{typeof(TService).Name} has no method {method.Name} for {method.FullName}.");
    }
}
