using System.Globalization;
using System.Text.Json;
using SeedDaemon.V1;

namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>
/// A real torch DataLoader with worker processes seeded through seedd: the same batches run after run,
/// other epochs and ranks differ, every seed a worker used is in the ledger, and only the training
/// process talks to the daemon.
/// </summary>
public sealed class DataLoaderTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>, IAsyncLifetime
{
    private const string SampleExperiment = "python/dataloader-sample";
    private const string LedgerExperiment = "python/dataloader-ledger";
    private const string ColumnsExperiment = "python/dataloader-columns";

    public async Task InitializeAsync()
    {
        foreach (var experiment in new[] { SampleExperiment, LedgerExperiment, ColumnsExperiment })
        {
            await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = experiment, Root = "20261202" });
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task The_sample_prints_the_same_batches_every_run_and_other_epochs_and_ranks_differ()
    {
        var first = await Sample(rank: 3);
        var second = await Sample(rank: 3);
        var otherRank = await Sample(rank: 4);

        Assert.Equal(first, second);
        Assert.Equal(12, first.Count);
        Assert.All(first, line => Assert.Matches(@"^epoch [0-1] batch [0-5] [0-9a-f]{64}$", line));
        var epoch0 = first.Where(l => l.StartsWith("epoch 0 ", StringComparison.Ordinal)).Select(Hash).ToHashSet();
        var epoch1 = first.Where(l => l.StartsWith("epoch 1 ", StringComparison.Ordinal)).Select(Hash).ToHashSet();
        Assert.Empty(epoch0.Intersect(epoch1));
        Assert.Empty(first.Select(Hash).Intersect(otherRank.Select(Hash)));
    }

    [Fact]
    public async Task Every_seed_a_loader_worker_used_is_in_the_ledger_and_only_the_training_process_asked()
    {
        const int Rank = 5;
        const int Workers = 3;
        var result = await PythonClientPackage.ScenarioAsync("loader_seeds", daemon.Address, LedgerExperiment, Rank.ToString(CultureInfo.InvariantCulture), Workers.ToString(CultureInfo.InvariantCulture), "2");
        var trainingPid = result.GetProperty("pid").GetInt64();
        var events = await LedgerAsync(LedgerExperiment);

        var epoch = 0;
        foreach (var run in result.GetProperty("epochs").EnumerateArray())
        {
            var stream = $"dataloader.epoch-{epoch}";
            for (var w = 0; w < Workers; w++)
            {
                var worker = (uint)WorkerIndex.Compose(Rank, (uint)w, Workers);
                Assert.Equal(worker, run.GetProperty("worker_index").GetProperty(w.ToString(CultureInfo.InvariantCulture)).GetUInt32());
                var fetched = run.GetProperty("fetched").GetProperty(w.ToString(CultureInfo.InvariantCulture));
                var used = run.GetProperty("used").GetProperty(w.ToString(CultureInfo.InvariantCulture));
                foreach (var library in new[] { "python", "numpy", "torch" })
                {
                    var recorded = events.Where(e => e.Worker == worker && e.Library == library && e.Stream == stream).ToList();
                    Assert.True(recorded.Count == 1, $"ledger events for ({worker}, {library}, {stream}): {recorded.Count}");
                    Assert.Equal(recorded[0].Seed.ToString(CultureInfo.InvariantCulture), fetched.GetProperty(library).GetString());
                    Assert.Equal(trainingPid, recorded[0].ClientPid);
                }

                // What the worker process really had: torch's seed, and its first random and NumPy draws.
                Assert.Equal(fetched.GetProperty("torch").GetString(), used.GetProperty("torch").GetString());
                Assert.NotEqual(trainingPid, used.GetProperty("pid").GetInt64());
                var firsts = run.GetProperty("first_draws").GetProperty(w.ToString(CultureInfo.InvariantCulture));
                var expected = run.GetProperty("expected_first_draws").GetProperty(w.ToString(CultureInfo.InvariantCulture));
                Assert.Equal(expected.GetProperty("random").GetDouble(), firsts.GetProperty("random").GetDouble());
                Assert.Equal(expected.GetProperty("numpy").GetDouble(), firsts.GetProperty("numpy").GetDouble());
            }

            // The loader's own generator (shuffle order, the workers' base seed) is seeded from the ledger too.
            var sampler = events.Single(e => e.Worker == Rank && e.Stream == $"dataloader.sampler.epoch-{epoch}");
            Assert.Equal(trainingPid, sampler.ClientPid);
            Assert.Equal(sampler.Seed.ToString(CultureInfo.InvariantCulture), run.GetProperty("sampler_seed").GetString());
            epoch++;
        }

        // Every loader event came from the training process: its workers never opened a connection.
        Assert.All(events.Where(e => e.Stream.StartsWith("dataloader.", StringComparison.Ordinal) && e.ClientPid != trainingPid), e => Assert.Fail($"event {e.Sequence} from pid {e.ClientPid}"));
    }

    [Fact]
    public async Task No_two_rank_and_loader_worker_pairs_share_a_seed_in_any_column()
    {
        foreach (var rank in new[] { 0, 1, 2 })
        {
            await PythonClientPackage.ScenarioAsync("loader_seeds", daemon.Address, ColumnsExperiment, rank.ToString(CultureInfo.InvariantCulture), "4", "1");
        }

        var columns = (await LedgerAsync(ColumnsExperiment))
            .Where(e => e.Stream.StartsWith("dataloader.", StringComparison.Ordinal))
            .GroupBy(e => (e.Library, e.Stream));
        foreach (var column in columns)
        {
            var byWorker = column.GroupBy(e => e.Worker).ToDictionary(g => g.Key, g => g.Select(e => e.Seed).Distinct().Single());
            Assert.Equal(byWorker.Count, byWorker.Values.Distinct().Count());
        }
    }

    [Fact]
    public async Task Python_composes_worker_indexes_exactly_as_the_NET_SDK()
    {
        var grid = new List<uint[]>();
        foreach (var rank in new uint[] { 0, 1, 7, 1000, 65_535, 1_073_741_823, 4_294_967_294, 4_294_967_295 })
        {
            foreach (var (sub, per) in new (uint, uint)[] { (0, 1), (0, 4), (3, 4), (4, 4), (0, 0), (7, 8), (0, 65_536), (65_535, 65_536), (1, 4_294_967_295) })
            {
                grid.Add([rank, sub, per]);
            }
        }

        var python = (await PythonClientPackage.ScenarioAsync("compose", JsonSerializer.Serialize(grid))).EnumerateArray().Select(e => e.GetString()!).ToList();
        var dotnet = grid.Select(g =>
        {
            try
            {
                return WorkerIndex.Compose(g[0], g[1], g[2]).ToString(CultureInfo.InvariantCulture);
            }
            catch (OverflowException)
            {
                return "overflow";
            }
            catch (ArgumentOutOfRangeException)
            {
                return "range";
            }
        }).ToList();
        Assert.Equal(dotnet, python);
        Assert.Contains("overflow", dotnet);
        Assert.Contains("range", dotnet);
    }

    private async Task<List<string>> Sample(int rank)
    {
        var result = await PythonClientPackage.RunAsync(["-m", "seedd_client.dataloader_sample", "--address", daemon.Address, "--experiment", SampleExperiment,
            "--rank", rank.ToString(CultureInfo.InvariantCulture), "--num-workers", "2", "--epochs", "2"]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private static string Hash(string line) => line.Split(' ')[^1];

    private Task<List<LedgerEvent>> LedgerAsync(string experiment) => daemon.Audit.EventsAsync(experiment);
}
