extern alias daemon;

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using SeedDaemon.Client;
using daemon::SeedDaemon.Daemon.Hosting;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Security;

/// <summary>TLS and Unix-socket listeners, and the safe default for reachable addresses.</summary>
public sealed class ListenerTests
{
    [Fact]
    public async Task TLS_with_a_certificate_the_test_makes()
    {
        using var folder = new TempFolder();
        var (certificate, key) = (folder.File("seedd.crt"), folder.File("seedd.key"));
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=seedd-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
            using var made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(certificate, made.ExportCertificatePem());
            await File.WriteAllTextAsync(key, rsa.ExportPkcs8PrivateKeyPem());
        }

        await using var seedd = await SeeddApp.StartAsync(new Dictionary<string, string?>
        {
            ["Seedd:Listen"] = "127.0.0.1:0",
            ["Seedd:Database"] = folder.File("seeds.db"),
            ["Seedd:Tls:CertificatePath"] = certificate,
            ["Seedd:Tls:KeyPath"] = key,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        var address = new Uri(seedd.Addresses[0]);
        Assert.Equal("https", address.Scheme);

        using var client = new SeedClient(new SeedClientOptions { Address = address, CaCertificatePath = certificate });
        await client.CreateExperimentAsync("tls/exp", "5");
        Assert.Equal(SeedDaemon.Derivation.SeedSeqV1.Derive(5, 1, "torch", "").Seed, (await client.GetSeedAsync("tls/exp", 1, "torch")).Seed);

        // A client that does not trust the certificate gets nothing.
        using var untrusting = new SeedClient(new SeedClientOptions { Address = address, RetryTimeout = TimeSpan.Zero });
        await Assert.ThrowsAsync<RpcException>(() => untrusting.GetExperimentAsync("tls/exp"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task A_Unix_socket_with_mode_0660_serves_the_SDK_and_seedctl()
    {
        using var folder = new TempFolder();
        var socket = folder.File("seedd.sock");
        await using var seedd = await SeeddProcess.StartAsync("--listen", "unix:" + socket, "--db", folder.File("seeds.db"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(socket));

        using var client = new SeedClient(new SeedClientOptions { UnixSocketPath = socket });
        await client.CreateExperimentAsync("unix/exp", "9");
        var seed = await client.GetSeedAsync("unix/exp", 2, "numpy");
        Assert.Equal(SeedDaemon.Derivation.SeedSeqV1.Derive(9, 2, "numpy", "").Seed, seed.Seed);
        Assert.Contains("unix/exp", await Seedctl.Expect(0, "unix:" + socket, "experiments", "list"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reachable_address_without_tokens_is_refused_unless_anonymous_is_allowed()
    {
        using var folder = new TempFolder();
        var (code, output) = await SeeddProcess.RunToExitAsync("--listen", "0.0.0.0:0", "--db", folder.File("seeds.db"));
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("Seedd:Auth:AllowAnonymous", output, StringComparison.Ordinal);

        // REST serves the same calls, admin ones included: a reachable --http-listen is refused the same way, nothing created.
        var (restCode, restOutput) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:0", "--http-listen", "0.0.0.0:0", "--db", folder.File("seeds.db"));
        Assert.Equal(ExitCodes.InvalidConfiguration, restCode);
        Assert.Contains("Seedd:HttpListen (--http-listen) is 0.0.0.0:0, which other machines can reach, and no tokens are configured", restOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("seeds.db")), "a refused start created the database");

        // REST on gRPC's own port: refused at the options, before the database is opened (it was created, then the second bind failed).
        var (samePortCode, samePortOutput) = await SeeddProcess.RunToExitAsync("--listen", "127.0.0.1:47999", "--http-listen", "localhost:47999", "--db", folder.File("seeds.db"));
        Assert.Equal(ExitCodes.InvalidConfiguration, samePortCode);
        Assert.Contains("Seedd:HttpListen (--http-listen) is localhost:47999, the port gRPC listens on", samePortOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(folder.File("seeds.db")), "a refused start created the database");

        var anonymous = new Dictionary<string, string?> { ["Seedd__Auth__AllowAnonymous"] = "true" };
        await using var seedd = await SeeddProcess.StartAsync(anonymous, "--listen", "0.0.0.0:0", "--http-listen", "0.0.0.0:0", "--db", folder.File("seeds.db"));
        Assert.StartsWith("http://", seedd.Address, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tokens_come_from_environment_variables_and_bad_ones_stop_the_start()
    {
        using var folder = new TempFolder();
        var variables = new Dictionary<string, string?>
        {
            ["Seedd__Auth__Tokens__0__Name"] = "ci",
            ["Seedd__Auth__Tokens__0__Role"] = "superuser",
            ["Seedd__Auth__Tokens__0__Sha256"] = "plain-token",
        };
        var (code, output) = await SeeddProcess.RunToExitAsync(variables, "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains("Seedd:Auth:Tokens:0:Role", output, StringComparison.Ordinal);
        Assert.Contains("Seedd:Auth:Tokens:0:Sha256", output, StringComparison.Ordinal);

        variables["Seedd__Auth__Tokens__0__Role"] = "auditor";
        variables["Seedd__Auth__Tokens__0__Sha256"] = Convert.ToHexStringLower(SHA256.HashData("ci-token"u8));
        await using var seedd = await SeeddProcess.StartAsync(variables, "--listen", "127.0.0.1:0", "--db", folder.File("seeds.db"));
        using var channel = TestChannels.Create(seedd.Address);
        var client = new SeedService.SeedServiceClient(channel);
        await RpcAssert.FailsWith(StatusCode.Unauthenticated, async () => await client.ListExperimentsAsync(new ListExperimentsRequest()));
        await client.ListExperimentsAsync(new ListExperimentsRequest(), new Metadata { { "authorization", "Bearer ci-token" } });
    }
}
