using SeedDaemon.Client;
using SeedDaemon.Client.Proofs;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Client.Tests;

/// <summary>The typed client against a real daemon over a real channel.</summary>
public sealed class SeedClientTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    [Fact]
    public async Task A_bundle_is_fetched_in_one_call_and_verified()
    {
        using var client = new SeedClient(new SeedClientOptions { Address = new Uri(daemon.Address) });
        var experiment = await client.CreateExperimentAsync("sdk/bundle", "1234567");
        var columns = ColumnKey.Default.Append(new ColumnKey("torch", "dataloader")).ToList();
        var bundle = await client.GetBundleAsync("sdk/bundle", 2_500_000_000, columns);

        Assert.Equal(experiment.Root, bundle.Root);
        Assert.Equal(columns.Count, bundle.Seeds.Count);
        foreach (var column in columns)
        {
            Assert.Equal(SeedSeqV1.Derive(1234567, 2_500_000_000, column.Library, column.Stream).Seed, bundle.Seed(column.Library, column.Stream));
        }

        var single = await client.GetSeedAsync("sdk/bundle", 2_500_000_000, "torch", "dataloader");
        Assert.Equal(bundle.Get("torch", "dataloader").Seed64, single.Seed64);
        Assert.Equal(2ul, single.IssueCount);
    }

    [Fact]
    public async Task A_run_keeps_the_experiments_signed_checkpoint_at_its_end()
    {
        using var client = new SeedClient(new SeedClientOptions { Address = new Uri(daemon.Address) });
        await client.CreateExperimentAsync("sdk/run-checkpoint", "31");
        await client.GetSeedAsync("sdk/run-checkpoint", 0, "torch");
        var identity = new WorkerIdentity(new Uri(daemon.Address), "sdk/run-checkpoint", 0, "test", null, 1);
        var run = client.StartRun("run-1", identity);
        run.Fingerprint(0, [new Digest { Name = "loss", Kind = DigestKind.Scalar, Value = Google.Protobuf.ByteString.CopyFrom(BitConverter.GetBytes(0.25)) }]);
        await client.GetSeedAsync("sdk/run-checkpoint", 1, "torch");
        Assert.Null(run.Checkpoint);
        await run.DisposeAsync();

        // Verified with the daemon's key and naming the experiment: the two seeds the run used are in it.
        var checkpoint = Assert.IsType<LedgerCheckpoint>(run.Checkpoint);
        Assert.Equal("sdk/run-checkpoint", checkpoint.ExperimentId);
        Assert.Equal(2, checkpoint.Size);
        Assert.Equal((await client.GetCheckpointAsync("sdk/run-checkpoint")).Root, checkpoint.Root);
    }

    [Fact]
    public async Task A_single_listed_address_is_the_one_called_and_a_conflicting_Address_is_refused()
    {
        var options = new SeedClientOptions { RetryTimeout = TimeSpan.FromSeconds(5) };
        options.Addresses.Add(new Uri(daemon.Address));
        using (var client = new SeedClient(options))
        {
            await client.CreateExperimentAsync("sdk/listed", "8");
            Assert.Equal(SeedSeqV1.Derive(8, 1, "torch", "").Seed64, (await client.GetSeedAsync("sdk/listed", 1, "torch")).Seed64);
        }

        var both = new SeedClientOptions { Address = new Uri("http://127.0.0.1:1") };
        both.Addresses.Add(new Uri(daemon.Address));
        var error = Assert.Throws<ArgumentException>(both.Validate);
        Assert.Contains("Address (http://127.0.0.1:1/) is set and is not among Addresses", error.Message, StringComparison.Ordinal);
        SeedClientOptions.ForAddress($"{daemon.Address},http://127.0.0.1:1").Validate();
    }

    [Fact]
    public async Task The_environment_says_which_worker_this_is()
    {
        using var client = new SeedClient(new SeedClientOptions { Address = new Uri(daemon.Address) });
        await client.CreateExperimentAsync("sdk/env", "77");
        var identity = WorkerIdentity.FromEnvironment(new Dictionary<string, string?>
        {
            ["SEEDD_ADDRESS"] = daemon.Address,
            ["SEEDD_EXPERIMENT"] = "sdk/env",
            ["RANK"] = "12",
            ["WORLD_SIZE"] = "16",
        });
        var bundle = await client.GetBundleAsync(identity, [new ColumnKey("numpy")]);
        Assert.Equal(12u, bundle.Worker);
        Assert.Equal(SeedSeqV1.Derive(77, 12, "numpy", "").Seed, bundle.Seed("numpy"));
    }

    [Fact]
    public async Task Answers_that_do_not_match_the_local_derivation_are_refused()
    {
        using var client = new SeedClient(new SeedClientOptions { Address = new Uri(daemon.Address) });
        await client.CreateExperimentAsync("sdk/verify", "5");
        var real = await client.GetSeedAsync("sdk/verify", 1, "torch");
        SeedVerifier.Verify(real, "sdk/verify", 1, "torch", "");

        var otherScheme = real.Clone();
        otherScheme.Scheme = "seedseq-v2";
        Assert.Contains("scheme", Assert.Throws<SeedVerificationException>(() => SeedVerifier.Verify(otherScheme, "sdk/verify", 1, "torch", "")).Message, StringComparison.Ordinal);

        var otherSeed = real.Clone();
        otherSeed.Seed64 ^= 1;
        otherSeed.Seed ^= 1;
        Assert.Throws<SeedVerificationException>(() => SeedVerifier.Verify(otherSeed, "sdk/verify", 1, "torch", ""));

        var otherState = real.Clone();
        otherState.State[2] ^= 1;
        Assert.Throws<SeedVerificationException>(() => SeedVerifier.Verify(otherState, "sdk/verify", 1, "torch", ""));

        var otherKey = real.Clone();
        otherKey.Worker = 2;
        Assert.Throws<SeedVerificationException>(() => SeedVerifier.Verify(otherKey, "sdk/verify", 1, "torch", ""));

        var otherRoot = real.Clone();
        otherRoot.Root = "6";
        Assert.Throws<SeedVerificationException>(() => SeedVerifier.Verify(otherRoot, "sdk/verify", 1, "torch", ""));
    }

    [Fact]
    public async Task Client_errors_are_not_retried()
    {
        using var client = new SeedClient(new SeedClientOptions { Address = new Uri(daemon.Address), RetryTimeout = TimeSpan.FromSeconds(30) });
        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => client.GetSeedAsync("sdk/none", 1, "torch"));
        Assert.Equal(Grpc.Core.StatusCode.NotFound, error.StatusCode);
        // Retried, it would take its 30 s: a first call on a new channel in a loaded test host may take a few.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), $"NOT_FOUND came after {(DateTime.UtcNow - started).TotalSeconds:0.0} s: it was retried");
    }

    /// <summary>The daemon here takes at most 2,500 keys a call; 6,000 keys in one GetSeedsAsync are split, verified and kept in order.</summary>
    [Fact]
    public async Task GetSeedsAsync_splits_a_list_larger_than_the_daemons_batch_limit()
    {
        using var client = new SeedClient(new SeedClientOptions { Address = new Uri(daemon.Address), MaxBatchKeys = 2500 });
        await client.CreateExperimentAsync("sdk/split", "31");
        var keys = Enumerable.Range(0, 6000).Select(w => new V1.GetSeedRequest { ExperimentId = "sdk/split", Worker = (uint)(5999 - w), Library = "numpy" }).ToList();
        var seeds = await client.GetSeedsAsync(keys);

        Assert.Equal(keys.Select(k => k.Worker), seeds.Select(s => s.Worker));
        Assert.All(seeds, s => Assert.Equal(SeedSeqV1.Derive(31, s.Worker, "numpy", "").Seed, s.Seed));
        var audit = new V1.AuditService.AuditServiceClient(daemon.Channel);
        Assert.Equal(6000ul, (await audit.VerifyLedgerAsync(new V1.VerifyLedgerRequest { ExperimentId = "sdk/split" })).EventsChecked);

        // Without the split, the daemon refuses the whole list.
        using var unsplit = new SeedClient(new SeedClientOptions { Address = new Uri(daemon.Address), MaxBatchKeys = 10_000 });
        var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => unsplit.GetSeedsAsync(keys));
        Assert.Contains("at most 2500 keys", refused.Status.Detail, StringComparison.Ordinal);
    }
}
