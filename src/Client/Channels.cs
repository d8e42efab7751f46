using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SeedDaemon.Client;

/// <summary>
/// Builds the one HTTP/2 channel a client uses: TCP or a Unix socket, plaintext or TLS, to one daemon
/// or balanced (round robin) over several replicas, listed or behind one DNS name.
/// </summary>
public static class Channels
{
    /// <summary>HTTP/2 receive window per call: larger than the largest answer the daemon gives (a 10,000-key batch is a few MB).</summary>
    public const int ResponseWindowBytes = 16 << 20;

    public static GrpcChannel Create(SeedClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = options.ConnectTimeout,

            // Every answer fits in the first window, so a response never waits for a WINDOW_UPDATE.
            // With the default window, about one call in 5,000-10,000 with a ~300 KB answer (a
            // 1,000-record page) stalled until its deadline, though the daemon had finished it.
            InitialHttp2StreamWindowSize = ResponseWindowBytes,
        };
        var address = options.Targets[0];
        if (options.UnixSocketPath is { } socketPath)
        {
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            address = new Uri("http://localhost");
        }

        if (options.CaCertificatePath is { } caPath)
        {
            var authority = X509Certificate2.CreateFromPem(File.ReadAllText(caPath));
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                {
                    if (certificate is null)
                    {
                        return false;
                    }

                    if (errors == SslPolicyErrors.None)
                    {
                        return true;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(authority);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
                        && chain.Build(new X509Certificate2(certificate));
                },
            };
        }

        if (!options.IsBalanced)
        {
            return GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true });
        }

        // Several replicas: gRPC's own client-side balancing. A listed set comes from a static resolver,
        // a dns:/// name from the DNS resolver (every A/AAAA record, refreshed); round robin skips a
        // replica whose connection failed, so a retried call lands on one that answers.
        var services = new ServiceCollection();
        if (address.Scheme != "dns")
        {
            var listed = options.Addresses.Select(a => new BalancerAddress(a.Host, a.Port)).ToList();
            services.AddSingleton<ResolverFactory>(new StaticResolverFactory(_ => listed));
            address = new Uri("static:///seedd");
        }

        var tls = options.Addresses.Count > 0 ? options.Addresses[0].Scheme == Uri.UriSchemeHttps : options.CaCertificatePath is not null;
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            Credentials = tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure,
            ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } },
            ServiceProvider = services.BuildServiceProvider(),
        });
    }
}
