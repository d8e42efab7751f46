using Microsoft.Extensions.DependencyInjection;
using SeedDaemon.Client;
using SeedDaemon.Derivation;

namespace SeedDaemon.Client.Tests;

/// <summary>The SDK's pure parts: identity from the environment, worker composition, options.</summary>
public sealed class SdkTests
{
    [Fact]
    public void Identity_prefers_SEEDD_WORKER_then_RANK()
    {
        var env = new Dictionary<string, string?>
        {
            ["SEEDD_ADDRESS"] = "10.1.2.3:6000",
            ["SEEDD_EXPERIMENT"] = "team/run-9",
            ["RANK"] = "17",
            ["LOCAL_RANK"] = "1",
            ["WORLD_SIZE"] = "64",
        };
        var fromRank = WorkerIdentity.FromEnvironment(env);
        Assert.Equal(new Uri("http://10.1.2.3:6000"), fromRank.Address);
        Assert.Equal("team/run-9", fromRank.ExperimentId);
        Assert.Equal(17u, fromRank.Worker);
        Assert.Equal("RANK", fromRank.WorkerSource);
        Assert.Equal((1, 64), (fromRank.LocalRank!.Value, fromRank.WorldSize!.Value));

        env["SEEDD_WORKER"] = "4000000000";
        var explicitWorker = WorkerIdentity.FromEnvironment(env);
        Assert.Equal(4_000_000_000u, explicitWorker.Worker);
        Assert.Equal("SEEDD_WORKER", explicitWorker.WorkerSource);
    }

    [Fact]
    public void Identity_defaults_for_a_single_process_and_refuses_ambiguity()
    {
        var single = WorkerIdentity.FromEnvironment(new Dictionary<string, string?>());
        Assert.Equal(0u, single.Worker);
        Assert.Equal(new Uri(SeedClientOptions.DefaultAddress), single.Address);
        Assert.Throws<InvalidOperationException>(() => single.RequireExperiment());

        var error = Assert.Throws<InvalidOperationException>(() => WorkerIdentity.FromEnvironment(new Dictionary<string, string?> { ["WORLD_SIZE"] = "8" }));
        Assert.Contains("RANK", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SEEDD_WORKER", "-1")]
    [InlineData("SEEDD_WORKER", "4294967295")]
    [InlineData("RANK", "one")]
    [InlineData("WORLD_SIZE", "x")]
    public void Identity_names_a_bad_variable(string variable, string value)
    {
        var error = Assert.Throws<FormatException>(() => WorkerIdentity.FromEnvironment(new Dictionary<string, string?> { [variable] = value }));
        Assert.Contains(variable, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Worker_indices_compose_without_overflow()
    {
        Assert.Equal(17u * 8 + 3, WorkerIndex.Compose(17, 3, 8));
        Assert.Equal(WorkerIndex.Max, WorkerIndex.Compose(WorkerIndex.Max, 0, 1));
        Assert.Throws<OverflowException>(() => WorkerIndex.Compose(600_000_000, 7, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkerIndex.Compose(1, 8, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => WorkerIndex.Compose(1, 0, 0));
    }

    [Fact]
    public void Column_keys_parse()
    {
        Assert.Equal(new ColumnKey("torch", "dataloader"), ColumnKey.Parse("torch/dataloader"));
        Assert.Equal(new ColumnKey("numpy"), ColumnKey.Parse("numpy"));
        Assert.Throws<FormatException>(() => ColumnKey.Parse("Torch"));
        Assert.Throws<FormatException>(() => ColumnKey.Parse("torch/"));
    }

    [Fact]
    public void Options_are_validated()
    {
        Assert.Throws<ArgumentException>(() => new SeedClientOptions { Address = new Uri("ftp://x") }.Validate());
        Assert.Throws<ArgumentException>(() => new SeedClientOptions { CallTimeout = TimeSpan.Zero }.Validate());
        foreach (var (key, value) in new[] { ("job", "a,b=c"), ("note", "h\u00e9llo"), ("pad", " x"), ("bad key", "x") })
        {
            var labelled = new SeedClientOptions();
            labelled.ClientLabels[key] = value;
            Assert.Contains($"'{key}'", Assert.Throws<ArgumentException>(labelled.Validate).Message, StringComparison.Ordinal);
        }

        var fine = new SeedClientOptions();
        fine.ClientLabels["job"] = "train-17 (nightly)";
        fine.Validate();

        var services = new ServiceCollection().AddSeedDaemonClient(o => o.CallTimeout = TimeSpan.FromSeconds(-1)).BuildServiceProvider();
        Assert.ThrowsAny<Exception>(() => services.GetRequiredService<SeedClient>());
    }

    [Fact]
    public void The_client_registers_once_in_a_service_collection()
    {
        using var services = new ServiceCollection().AddSeedDaemonClient(o => o.Address = new Uri("http://127.0.0.1:1")).BuildServiceProvider();
        Assert.Same(services.GetRequiredService<SeedClient>(), services.GetRequiredService<SeedClient>());
    }

    [Fact]
    public void System_Random_is_seeded_with_the_31_bit_dotnet_seed()
    {
        var derived = SeedSeqV1.Derive(42, 5, "dotnet", "");
        var answer = new V1.IssuedSeed { ExperimentId = "e", Worker = 5, Library = "dotnet", Seed = derived.Seed, Seed64 = derived.Seed64, Width = 31, Root = "42", Scheme = SeedSeqV1.Scheme };
        var bundle = new SeedBundle("e", 5, [answer]);
        Assert.Equal(new Random((int)derived.Seed).Next(), bundle.CreateRandom().Next());
        Assert.Throws<KeyNotFoundException>(() => bundle.Seed("torch"));
    }
}
