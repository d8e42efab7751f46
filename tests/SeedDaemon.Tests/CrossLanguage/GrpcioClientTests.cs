using System.Text.Json;

namespace SeedDaemon.Tests.CrossLanguage;

/// <summary>
/// A Python client generated from protos/ with Debian's protoc and grpc_python_plugin gets, for
/// random keys, exactly the seeds NumPy computes under seedseq-v1.
/// </summary>
public sealed class GrpcioClientTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    [Fact]
    public async Task Python_grpcio_client_gets_the_seeds_NumPy_computes()
    {
        using var stubs = new TempFolder();
        var protoFiles = Directory.GetFiles(Path.Combine(TestPaths.Protos, "seeddaemon", "v1"), "*.proto");
        var googleApi = Path.Combine(TestPaths.GoogleApiProtos, "google", "api");
        var protoc = await ProcessRunner.RunAsync("protoc", [
            $"-I{TestPaths.Protos}", $"-I{TestPaths.GoogleApiProtos}", "-I/usr/include",
            $"--python_out={stubs.Path}", $"--grpc_out={stubs.Path}",
            "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
            .. protoFiles, Path.Combine(googleApi, "annotations.proto"), Path.Combine(googleApi, "http.proto")]);
        Assert.True(protoc.ExitCode == 0, "protoc failed (needs Debian's protobuf-compiler and protobuf-compiler-grpc): " + protoc.Stderr);

        var output = await Python.RunScriptAsync("grpcio_client.py", args: [daemon.Address, stubs.Path, "300", Environment.TickCount.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var summary = JsonDocument.Parse(output);
        Assert.Equal(600, summary.RootElement.GetProperty("checked").GetInt32());
        var codes = summary.RootElement.GetProperty("codes");
        Assert.Equal("INVALID_ARGUMENT", codes.GetProperty("bad_library").GetString());
        Assert.Equal("INVALID_ARGUMENT", codes.GetProperty("reserved_worker").GetString());
        Assert.Equal("NOT_FOUND", codes.GetProperty("unknown_experiment").GetString());
    }
}
