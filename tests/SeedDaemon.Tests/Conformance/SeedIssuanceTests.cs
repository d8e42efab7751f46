using Grpc.Core;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Conformance;

/// <summary>GetSeed and BatchGetSeeds through a real channel: values, records, statuses.</summary>
public abstract class SeedIssuanceTests<TDaemon>(TDaemon daemon) : IClassFixture<TDaemon>
    where TDaemon : ConformanceDaemon
{
    private async Task<string> NewExperiment(string id, string root = "42")
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = root });
        return id;
    }

    [Fact]
    public async Task GetSeed_answers_the_derivation_with_everything_needed_to_rebuild_it()
    {
        var id = await NewExperiment("issue/basic", "340282366920938463463374607431768211455");
        var seed = await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = 123456, Library = "numpy", Stream = "dataloader" });

        var expected = SeedSeqV1.Derive(UInt128.MaxValue, 123456, "numpy", "dataloader");
        Assert.Equal(expected.Seed, seed.Seed);
        Assert.Equal(expected.Seed64, seed.Seed64);
        Assert.Equal(32u, seed.Width);
        Assert.Equal(expected.StateWords(), seed.State);
        Assert.Equal(expected.SpawnKey(), seed.SpawnKey);
        Assert.Equal("340282366920938463463374607431768211455", seed.Root);
        Assert.Equal(SeedSeqV1.Scheme, seed.Scheme);
        Assert.Equal(1ul, seed.IssueCount);
        Assert.Equal((id, 123456u, "numpy", "dataloader"), (seed.ExperimentId, seed.Worker, seed.Library, seed.Stream));
        Assert.StartsWith("ipv4:127.0.0.1:", seed.FirstRequester, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repeated_requests_count_and_keep_the_first_issue()
    {
        var id = await NewExperiment("issue/repeat");
        var request = new GetSeedRequest { ExperimentId = id, Worker = 3, Library = "torch" };
        var first = await daemon.Seeds.GetSeedAsync(request);
        await Task.Delay(5);
        var second = await daemon.Seeds.GetSeedAsync(request);
        var third = await daemon.Seeds.GetSeedAsync(request);

        Assert.Equal(first.Seed64, third.Seed64);
        Assert.Equal(first.FirstIssueTime, third.FirstIssueTime);
        Assert.Equal([1ul, 2ul, 3ul], new[] { first.IssueCount, second.IssueCount, third.IssueCount });
    }

    [Fact]
    public async Task GetSeed_on_an_unknown_experiment_is_NOT_FOUND()
    {
        await RpcAssert.FailsWith(StatusCode.NotFound, async () =>
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "issue/nope", Worker = 0, Library = "torch" }));
    }

    [Theory]
    [InlineData("", 0u, "torch", "", "experiment_id")]
    [InlineData("issue/validation", uint.MaxValue, "torch", "", "worker")]
    [InlineData("issue/validation", 0u, "", "", "library")]
    [InlineData("issue/validation", 0u, "Torch", "", "library")]
    [InlineData("issue/validation", 0u, "torch", "Data Loader", "stream")]
    [InlineData("issue/validation", 0u, "torch", "-x", "stream")]
    public async Task GetSeed_with_a_bad_key_is_INVALID_ARGUMENT_and_records_nothing(string id, uint worker, string library, string stream, string field)
    {
        await NewExperiment("issue/validation");
        await RpcAssert.InvalidField(field, async () =>
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = worker, Library = library, Stream = stream }));
        var listed = await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "issue/validation" });
        Assert.Empty(listed.Seeds);
    }

    [Fact]
    public async Task Batch_answers_in_request_order()
    {
        var id = await NewExperiment("issue/batch", "7");
        var batch = new BatchGetSeedsRequest();
        var keys = new[] { (9u, "torch", ""), (0u, "numpy", "augment"), (5u, "custom-lib", ""), (9u, "torch", ""), (1u, "dotnet", "") };
        foreach (var (worker, library, stream) in keys)
        {
            batch.Requests.Add(new GetSeedRequest { ExperimentId = id, Worker = worker, Library = library, Stream = stream });
        }

        var response = await daemon.Seeds.BatchGetSeedsAsync(batch);
        Assert.Equal(keys.Length, response.Seeds.Count);
        for (var i = 0; i < keys.Length; i++)
        {
            var (worker, library, stream) = keys[i];
            Assert.Equal((worker, library, stream), (response.Seeds[i].Worker, response.Seeds[i].Library, response.Seeds[i].Stream));
            Assert.Equal(SeedSeqV1.Derive(7, worker, library, stream).Seed, response.Seeds[i].Seed);
        }

        Assert.Equal(2ul, response.Seeds[3].IssueCount);
    }

    [Fact]
    public async Task Keys_that_differ_only_inside_their_names_are_distinct_keys_in_one_batch()
    {
        // Same lengths, first and last characters: only the middle tells these apart.
        var first = await NewExperiment("issue/x-mid", "11");
        var second = await NewExperiment("issue/y-mid", "12");
        var keys = new[] { (first, "l1x", ""), (first, "l2x", ""), (first, "l1x", "s1z"), (first, "l1x", "s2z"), (second, "l1x", ""), (first, "l2x", "") };
        var batch = new BatchGetSeedsRequest();
        batch.Requests.AddRange(keys.Select(k => new GetSeedRequest { ExperimentId = k.Item1, Worker = 3, Library = k.Item2, Stream = k.Item3 }));

        var response = await daemon.Seeds.BatchGetSeedsAsync(batch);
        for (var i = 0; i < keys.Length; i++)
        {
            var (experiment, library, stream) = keys[i];
            Assert.Equal((experiment, library, stream), (response.Seeds[i].ExperimentId, response.Seeds[i].Library, response.Seeds[i].Stream));
            Assert.Equal(SeedSeqV1.Derive(experiment == first ? 11u : 12u, 3, library, stream).Seed64, response.Seeds[i].Seed64);
        }

        Assert.Equal([1ul, 1, 1, 1, 1, 2], response.Seeds.Select(s => s.IssueCount));
    }

    [Fact]
    public async Task A_batch_with_one_bad_key_is_refused_whole()
    {
        var id = await NewExperiment("issue/all-or-nothing");
        var batch = new BatchGetSeedsRequest
        {
            Requests =
            {
                new GetSeedRequest { ExperimentId = id, Worker = 0, Library = "torch" },
                new GetSeedRequest { ExperimentId = id, Worker = 1, Library = "torch" },
                new GetSeedRequest { ExperimentId = id, Worker = 2, Library = "NOT VALID" },
            },
        };
        await RpcAssert.InvalidField("requests[2].library", async () => await daemon.Seeds.BatchGetSeedsAsync(batch));

        batch.Requests[2].Library = "torch";
        batch.Requests[1].ExperimentId = "issue/missing";
        await RpcAssert.FailsWith(StatusCode.NotFound, async () => await daemon.Seeds.BatchGetSeedsAsync(batch));

        var listed = await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = id });
        Assert.Empty(listed.Seeds);
    }

    [Fact]
    public async Task An_oversized_batch_is_INVALID_ARGUMENT()
    {
        var id = await NewExperiment("issue/oversized");
        var batch = new BatchGetSeedsRequest();
        for (uint w = 0; w < 2501; w++)
        {
            batch.Requests.Add(new GetSeedRequest { ExperimentId = id, Worker = w, Library = "torch" });
        }

        await RpcAssert.InvalidField("requests", async () => await daemon.Seeds.BatchGetSeedsAsync(batch));
    }

    /// <summary>gRPC refuses a message over the size limit before seedd's code runs; the answer still names the limit in keys.</summary>
    [Fact]
    public async Task A_batch_over_the_message_size_names_the_limit_in_keys()
    {
        var id = await NewExperiment("issue/huge");
        var batch = new BatchGetSeedsRequest();
        for (uint w = 0; w < 100_000; w++)
        {
            batch.Requests.Add(new GetSeedRequest { ExperimentId = id, Worker = w, Library = "torch" });
        }

        var error = await RpcAssert.FailsWith(StatusCode.ResourceExhausted, async () => await daemon.Seeds.BatchGetSeedsAsync(batch));
        Assert.Contains("at most 2500 keys (Seedd:MaxBatchKeys)", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("1048576-byte message limit", error.Status.Detail, StringComparison.Ordinal);
        Assert.Empty((await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = id })).Events);
    }

    [Fact]
    public async Task A_frozen_experiment_answers_issued_keys_and_refuses_new_ones()
    {
        var id = await NewExperiment("issue/frozen");
        var issued = await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = 4, Library = "torch" });
        await daemon.Seeds.FreezeExperimentAsync(new FreezeExperimentRequest { ExperimentId = id });

        var again = await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = 4, Library = "torch" });
        Assert.Equal(issued.Seed64, again.Seed64);
        Assert.Equal(2ul, again.IssueCount);

        var error = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, async () =>
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = 5, Library = "torch" }));
        Assert.Contains("frozen", error.Status.Detail, StringComparison.Ordinal);

        // All or nothing: the issued key in a batch with a new one is not counted.
        var batch = new BatchGetSeedsRequest
        {
            Requests =
            {
                new GetSeedRequest { ExperimentId = id, Worker = 4, Library = "torch" },
                new GetSeedRequest { ExperimentId = id, Worker = 6, Library = "torch" },
            },
        };
        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, async () => await daemon.Seeds.BatchGetSeedsAsync(batch));
        var listed = await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = id });
        var only = Assert.Single(listed.Seeds);
        Assert.Equal(2ul, only.IssueCount);
    }

    [Fact]
    public async Task Concurrent_requests_for_new_keys_are_all_recorded_and_distinct()
    {
        var id = await NewExperiment("issue/concurrent");
        var seeds = await Task.WhenAll(Enumerable.Range(0, 256).Select(async w =>
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = (uint)w, Library = "dotnet" })));

        Assert.Equal(256, seeds.Select(s => s.Seed).Distinct().Count());
        Assert.All(seeds, s => Assert.Equal(1ul, s.IssueCount));

        var listed = await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = id, PageSize = 1000 });
        Assert.Equal(256, listed.Seeds.Count);
    }

    [Fact]
    public async Task Every_answered_request_is_exactly_one_event_of_one_gap_free_chain()
    {
        var id = await NewExperiment("issue/one-event-each", "77");
        var asked = new System.Collections.Concurrent.ConcurrentDictionary<(uint, string), int>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async caller =>
        {
            var random = new Random(caller);
            for (var i = 0; i < 25; i++)
            {
                // Singles and batches over a small key space, so new keys and repeats race each other.
                var keys = Enumerable.Range(0, random.Next(1, 4)).Select(_ => ((uint)random.Next(0, 30), random.Next(2) == 0 ? "torch" : "numpy")).ToList();
                if (keys.Count == 1)
                {
                    await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = keys[0].Item1, Library = keys[0].Item2 });
                }
                else
                {
                    var batch = new BatchGetSeedsRequest();
                    batch.Requests.AddRange(keys.Select(k => new GetSeedRequest { ExperimentId = id, Worker = k.Item1, Library = k.Item2 }));
                    await daemon.Seeds.BatchGetSeedsAsync(batch);
                }

                foreach (var key in keys)
                {
                    asked.AddOrUpdate(key, 1, (_, n) => n + 1);
                }
            }
        }));

        var events = await daemon.Audit.EventsAsync(id);

        var total = asked.Values.Sum();
        Assert.Equal(Enumerable.Range(1, total).Select(n => (ulong)n), events.Select(e => e.Sequence));
        Assert.All(events, e => Assert.Equal(SeedSeqV1.Derive(77, e.Worker, e.Library, e.Stream).Seed64, e.Seed64));
        Assert.Equal(events.Skip(1).Select(e => e.PrevHash), events.SkipLast(1).Select(e => e.Hash));
        var perKey = events.GroupBy(e => (e.Worker, e.Library)).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(asked.OrderBy(k => k.Key).ToList(), perKey.OrderBy(k => k.Key).ToList());

        var listed = await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = id, PageSize = 1000 });
        Assert.All(listed.Seeds, s => Assert.Equal((ulong)asked[(s.Worker, s.Library)], s.IssueCount));
        var verified = await daemon.Audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = id });
        Assert.True(verified.Ok, verified.Reason);
        Assert.Equal((ulong)total, verified.EventsChecked);
    }

    /// <summary>A misspelled library was issued a 64-bit seed nothing applies, and recorded for ever.</summary>
    [Theory]
    [InlineData("pytorch", "torch")]
    [InlineData("tensorflw", "tensorflow")]
    [InlineData("numpy2", "numpy")]
    [InlineData("python3", "python")]
    [InlineData("sklearm", "sklearn")]
    [InlineData("tf", "tensorflow")]
    public async Task A_library_close_to_a_canonical_one_is_refused_with_the_name_it_likely_means(string library, string meant)
    {
        var id = await NewExperiment($"issue/typo-{library}");
        var error = await RpcAssert.InvalidField("library", async () => await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = 1, Library = library }));
        Assert.Contains($"did you mean '{meant}'?", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("seedd.custom-libraries", error.Status.Detail, StringComparison.Ordinal);

        var batch = new BatchGetSeedsRequest { Requests = { new GetSeedRequest { ExperimentId = id, Worker = 1, Library = "torch" }, new GetSeedRequest { ExperimentId = id, Worker = 1, Library = library } } };
        await RpcAssert.InvalidField("requests[1].library", async () => await daemon.Seeds.BatchGetSeedsAsync(batch));
        Assert.Empty((await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = id })).Events);
    }

    [Fact]
    public async Task Libraries_of_their_own_are_issued_and_a_declared_one_close_to_a_canonical_name_too()
    {
        var id = await NewExperiment("issue/own-libraries");
        foreach (var library in new[] { "torchvision", "numba", "custom-lib", "augment.albumentations", "cython", "jython", "torchx", "ajax", "jaxb", "torch.cuda.0", "python.math" })
        {
            var seed = await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = 1, Library = library });
            Assert.Equal(64u, seed.Width);
        }

        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "issue/declared", Root = "1", Labels = { ["seedd.custom-libraries"] = "pytorch, tf" } });
        var declared = await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "issue/declared", Worker = 1, Library = "pytorch" });
        Assert.Equal(SeedSeqV1.Derive(1, 1, "pytorch", "").Seed, declared.Seed);
        await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "issue/declared", Worker = 1, Library = "tf" });
        await RpcAssert.InvalidField("library", async () => await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "issue/declared", Worker = 1, Library = "tensorflw" }));
    }
}
