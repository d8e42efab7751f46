using System.Reflection;
using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>
/// Binds a generated gRPC service (ours, health, reflection) so that a request that is not a valid
/// protobuf message (random bytes, truncated, wrong wire types, bad lengths) is INVALID_ARGUMENT
/// rather than gRPC's UNKNOWN: a request is read before any interceptor runs, so only the request
/// marshaller can say so.
/// <para>
/// Only the generated code's public contract: its <c>BindService(ServiceBinderBase, TService)</c>
/// (named by <see cref="BindServiceMethodAttribute"/>) lists each method with the handler of the
/// instance it is given. Called once at discovery without an instance, it lists the methods, each
/// added to the <see cref="ServiceMethodProviderContext{TService}"/> with its request marshaller
/// wrapped; called again, at the first call, with one instance of the service for every call,
/// it gives the handlers to call. Grpc.AspNetCore's own binder gives way to this one
/// (<see cref="GrpcBinding.UseStrictBinder"/>). Upstream, an option on GrpcServiceOptions that maps
/// a request that cannot be deserialized to a status would replace all of this.
/// </para>
/// </summary>
internal sealed class StrictServiceMethodProvider<TService>(IServiceProvider services) : IServiceMethodProvider<TService>
    where TService : class
{
    private static readonly IList<object> Metadata = typeof(TService).GetCustomAttributes(inherit: true);
    private static readonly MethodInfo? BindMethod = FindBindMethod();
    private Dictionary<string, Delegate>? _handlers;

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        if (BindMethod is not { } bindMethod)
        {
            return;
        }

        bindMethod.Invoke(null, [new Discovery(context, this), null]);
    }

    private static MethodInfo? FindBindMethod()
    {
        for (var type = typeof(TService); type is not null; type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>() is { } attribute)
            {
                return attribute.BindType.GetMethod(attribute.BindMethodName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(ServiceBinderBase), type]);
            }
        }

        return null;
    }

    /// <summary>
    /// The handler the generated code binds for <paramref name="method"/>, on one instance of the
    /// service for every call (ours are DI singletons; health and reflection are stateless). Bound
    /// at the first call, not at discovery: the services need the store, which opens meanwhile.
    /// </summary>
    private THandler Handler<THandler>(string method)
        where THandler : Delegate
    {
        var handlers = Volatile.Read(ref _handlers);
        if (handlers is null)
        {
            var bound = new Handlers();
            BindMethod!.Invoke(null, [bound, ActivatorUtilities.GetServiceOrCreateInstance<TService>(services)]);
            handlers = Interlocked.CompareExchange(ref _handlers, bound.ByMethod, null) ?? bound.ByMethod;
        }

        return (THandler)handlers[method];
    }

    /// <summary>Adds every method to gRPC's endpoints, its handler looked up per call.</summary>
    private sealed class Discovery(ServiceMethodProviderContext<TService> context, StrictServiceMethodProvider<TService> provider) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            context.AddUnaryMethod(Strict(method), Metadata, (_, request, call) => provider.Handler<UnaryServerMethod<TRequest, TResponse>>(method.Name)(request, call));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddServerStreamingMethod(Strict(method), Metadata, (_, request, stream, call) => provider.Handler<ServerStreamingServerMethod<TRequest, TResponse>>(method.Name)(request, stream, call));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddClientStreamingMethod(Strict(method), Metadata, (_, requests, call) => provider.Handler<ClientStreamingServerMethod<TRequest, TResponse>>(method.Name)(requests, call));

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            context.AddDuplexStreamingMethod(Strict(method), Metadata, (_, requests, responses, call) => provider.Handler<DuplexStreamingServerMethod<TRequest, TResponse>>(method.Name)(requests, responses, call));

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
    }

    /// <summary>Collects the handlers the generated code binds to one instance, by method name.</summary>
    private sealed class Handlers : ServiceBinderBase
    {
        public Dictionary<string, Delegate> ByMethod { get; } = new(StringComparer.Ordinal);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) => ByMethod[method.Name] = handler!;

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) => ByMethod[method.Name] = handler!;

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) => ByMethod[method.Name] = handler!;

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) => ByMethod[method.Name] = handler!;
    }
}

/// <summary>Puts <see cref="StrictServiceMethodProvider{TService}"/> in the place of Grpc.AspNetCore's own binder.</summary>
internal static class GrpcBinding
{
    /// <summary>The type Grpc.AspNetCore.Server binds generated services with (internal; named, since it cannot be referenced).</summary>
    public const string GrpcBinderType = "Grpc.AspNetCore.Server.Model.Internal.BinderServiceMethodProvider`1";

    /// <summary>
    /// Removes Grpc.AspNetCore's binder and registers the strict one. JSON transcoding's provider
    /// (REST) and gRPC's provider for ServerServiceDefinitions stay. If a gRPC upgrade renames or
    /// drops the binder, seedd refuses to start, saying so, instead of binding every method twice
    /// (StrictBindingTests fails first).
    /// </summary>
    public static void UseStrictBinder(IServiceCollection services)
    {
        var binderType = typeof(GrpcServiceOptions).Assembly.GetType(GrpcBinderType);
        var binders = services.Where(d => d.ServiceType == typeof(IServiceMethodProvider<>) && d.ImplementationType == binderType).ToList();
        if (binderType is null || binders.Count != 1)
        {
            throw new InvalidOperationException($"{typeof(GrpcServiceOptions).Assembly.GetName()} no longer registers {GrpcBinderType} once (found {binders.Count}); seedd cannot keep malformed requests INVALID_ARGUMENT without replacing it. See StrictServiceMethodProvider.");
        }

        services.Remove(binders[0]);
        services.Add(ServiceDescriptor.Singleton(typeof(IServiceMethodProvider<>), typeof(StrictServiceMethodProvider<>)));
    }
}
