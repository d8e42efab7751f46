using System.Text.Json;

namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>Every failure of the Python client raises an exception that names the problem, never a raw gRPC repr.</summary>
public sealed class PythonErrorTests(TokenDaemon auth) : IClassFixture<TokenDaemon>, IAsyncLifetime
{
    private readonly InProcessDaemon _open = new();

    public Task InitializeAsync() => _open.InitializeAsync();

    public Task DisposeAsync() => _open.DisposeAsync();

    [Fact]
    public async Task The_client_draws_nothing_from_the_generators_a_script_seeded_even_while_it_retries()
    {
        await _open.Seeds.CreateExperimentAsync(new V1.CreateExperimentRequest { ExperimentId = "generators/x", Root = "8" });
        using var refusing = Ports.Refusing();
        var result = await PythonClientPackage.ScenarioAsync("user_generators", _open.Address, $"127.0.0.1:{refusing.Port}");

        // The oracle: the same seeds, no client between them and the draws.
        Assert.Equal(result.GetProperty("expected").GetRawText(), result.GetProperty("after").GetRawText());
    }

    [Fact]
    public async Task Failures_raise_exceptions_that_name_the_problem()
    {
        using var refusing = Ports.Refusing();
        var unreachable = $"127.0.0.1:{refusing.Port}";
        var result = await PythonClientPackage.ScenarioAsync("errors", _open.Address, unreachable, auth.Address);

        var down = result.GetProperty("unreachable");
        Assert.Equal("SeeddUnavailableError", Type(down));
        Assert.Contains($"seedd at {unreachable} did not answer within 2 s", Message(down), StringComparison.Ordinal);
        // Its retry_timeout of 2 s, plus its last try's own 1 s deadline, plus room for a loaded machine.
        Assert.InRange(down.GetProperty("seconds").GetDouble(), 1.5, 6.0);

        Assert.Equal("ExperimentNotFoundError", Type(result.GetProperty("missing_experiment")));
        Assert.Contains("Experiment 'errors/none' does not exist", Message(result.GetProperty("missing_experiment")), StringComparison.Ordinal);

        var library = result.GetProperty("invalid_library");
        Assert.Equal("InvalidArgumentError", Type(library));
        Assert.Equal("library", library.GetProperty("field").GetString());
        Assert.Contains("library 'Bad Lib'", Message(library), StringComparison.Ordinal);
        Assert.Equal("worker", result.GetProperty("reserved_worker").GetProperty("field").GetString());

        // protobuf said "Value out of range: -1"; the client names the field before any call.
        Assert.Equal("ValueError", Type(result.GetProperty("negative_worker")));
        Assert.Equal("worker must be an integer from 0 to 4294967294, got -1", Message(result.GetProperty("negative_worker")));
        Assert.Equal("keys[1]: worker must be an integer from 0 to 4294967294, got -1", Message(result.GetProperty("negative_worker_in_batch")));

        // A NumPy integer is a worker as protobuf takes it: the call reaches the daemon.
        Assert.Equal("ExperimentNotFoundError", Type(result.GetProperty("numpy_worker")));

        var token = result.GetProperty("wrong_token");
        Assert.Equal("SeeddAuthenticationError", Type(token));
        Assert.Contains("bearer token is not valid", Message(token), StringComparison.Ordinal);
        Assert.Contains("SEEDD_TOKEN", Message(token), StringComparison.Ordinal);
        Assert.Equal("SeeddAuthenticationError", Type(result.GetProperty("no_token")));

        // Labels the one x-seedd-client-labels header cannot carry unchanged are refused when the client is made.
        Assert.Equal("ValueError", Type(result.GetProperty("label_with_comma")));
        Assert.Contains("client label 'job' has the value 'a,b=c'", Message(result.GetProperty("label_with_comma")), StringComparison.Ordinal);
        Assert.Contains("client label 'note' has the value", Message(result.GetProperty("label_not_ascii")), StringComparison.Ordinal);
        Assert.Contains("client label key 'bad key' must match", Message(result.GetProperty("label_key")), StringComparison.Ordinal);
        Assert.Contains("'htps://127.0.0.1:1' is not a daemon address: the scheme must be", Message(result.GetProperty("unknown_scheme")), StringComparison.Ordinal);

        foreach (var failure in result.EnumerateObject())
        {
            Assert.DoesNotContain("_InactiveRpcError", Message(failure.Value), StringComparison.Ordinal);
            Assert.DoesNotContain("debug_error_string", Message(failure.Value), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_refused_batch_names_the_key_that_broke_the_rule()
    {
        var result = await PythonClientPackage.ScenarioAsync("invalid_field", _open.Address);
        Assert.Equal("requests[1].library", result.GetProperty("field").GetString());
    }

    private static string Type(JsonElement failure) => failure.GetProperty("type").GetString()!;

    private static string Message(JsonElement failure) => failure.GetProperty("message").GetString()!;

}
