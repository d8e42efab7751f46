using Google.Protobuf;
using Grpc.Core;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Conformance;

/// <summary>
/// The store check (scrub) over a whole store: every record read back as written, nothing found;
/// counts of what it read; its arguments checked. Damage and tampering it finds: Audit/StoreCheckTests.
/// </summary>
public abstract class StoreCheckTests<TDaemon>(TDaemon daemon) : IClassFixture<TDaemon>
    where TDaemon : ConformanceDaemon
{
    private AdminService.AdminServiceClient Admin => new(daemon.Channel);

    [Fact]
    public async Task A_whole_store_checks_clean_and_an_experiment_reports_what_was_read()
    {
        var seeds = new SeedService.SeedServiceClient(daemon.Channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "check/clean", Root = "5" });
        var batch = new BatchGetSeedsRequest();
        batch.Requests.AddRange(Enumerable.Range(0, 2500).Select(w => new GetSeedRequest { ExperimentId = "check/clean", Worker = (uint)w, Library = w % 2 == 0 ? "torch" : "numpy", Stream = w % 5 == 0 ? "dataloader" : "" }));
        await seeds.BatchGetSeedsAsync(batch);
        for (uint worker = 0; worker < 10; worker++)
        {
            await seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "check/clean", Worker = worker, Library = "torch" });
        }

        var runs = new RunService.RunServiceClient(daemon.Channel);
        for (uint worker = 0; worker < 3; worker++)
        {
            var report = new ReportFingerprintsRequest { ExperimentId = "check/clean", RunId = "first", Worker = worker };
            report.Steps.AddRange(Enumerable.Range(1, 1200).Select(s => new StepFingerprint { Step = s * 10, Digests = { new V1.Digest { Name = "loss", Kind = DigestKind.Scalar, Value = ByteString.CopyFrom(BitConverter.GetBytes((double)s)) } } }).Take(1000));
            await runs.ReportFingerprintsAsync(report);
        }

        var (updates, summary) = await CheckAsync(new CheckStoreRequest { ExperimentId = "check/clean", DutyPercent = 100 });
        Assert.True(summary.Ok, string.Join('\n', updates.Where(u => u.Finding is not null).Select(u => u.Finding.ToString())));
        Assert.Equal(2510, summary.Read.Events);
        // The batch's 2,500 keys, and six of the ten asked for alone (workers 0, 1, 3, 5, 7, 9 had other columns in the batch).
        Assert.Equal(2506, summary.Read.Seeds);
        Assert.Equal(3000, summary.Read.Fingerprints);
        Assert.Equal(1, summary.Read.Experiments);
        Assert.Equal(0, summary.Read.Documents);
        Assert.Contains(updates, u => u.Progress is { ExperimentsDone: 1, ExperimentsTotal: 1 });

        var (_, whole) = await CheckAsync(new CheckStoreRequest());
        Assert.True(whole.Ok, $"{daemon.Backend}: {whole}");
        Assert.True(whole.Read.Experiments >= 1 && whole.Read.Events >= 2510);
        Assert.Equal(daemon.Backend == "LiteDB", whole.Read.Documents > 0);
    }

    /// <summary>
    /// Checks that run while the experiment takes new keys, repeats and fingerprints find nothing:
    /// records read after the ledger are held against the events up to the head read after them.
    /// </summary>
    [Fact]
    public async Task A_store_checked_while_it_is_written_to_checks_clean()
    {
        const string id = "check/busy";
        var seeds = new SeedService.SeedServiceClient(daemon.Channel);
        var runs = new RunService.RunServiceClient(daemon.Channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "6" });
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            var step = 0;
            for (var round = 0; !stop.IsCancellationRequested; round++)
            {
                var batch = new BatchGetSeedsRequest();
                batch.Requests.AddRange(Enumerable.Range(0, 200).Select(w => new GetSeedRequest { ExperimentId = id, Worker = (uint)((round * 150) + w), Library = "torch" }));
                await seeds.BatchGetSeedsAsync(batch);
                var report = new ReportFingerprintsRequest { ExperimentId = id, RunId = "live", Worker = (uint)(round % 4) };
                report.Steps.Add(new StepFingerprint { Step = ++step, Digests = { new V1.Digest { Name = "loss", Kind = DigestKind.Scalar, Value = ByteString.CopyFrom(BitConverter.GetBytes((double)step)) } } });
                await runs.ReportFingerprintsAsync(report);
            }
        });

        try
        {
            for (var check = 0; check < 5; check++)
            {
                await Task.Delay(100);
                var (updates, summary) = await CheckAsync(new CheckStoreRequest { ExperimentId = id, DutyPercent = 100 });
                Assert.True(summary.Ok, $"{daemon.Backend}, check {check}: " + string.Join('\n', updates.Where(u => u.Finding is not null).Select(u => u.Finding.ToString())));
            }
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }
    }

    [Fact]
    public async Task A_bad_duty_or_an_unknown_experiment_is_refused_naming_it()
    {
        var duty = await RpcAssert.InvalidField("duty_percent", async () => await CheckAsync(new CheckStoreRequest { DutyPercent = 101 }));
        Assert.Contains("1 to 100", duty.Status.Detail, StringComparison.Ordinal);
        await RpcAssert.FailsWith(StatusCode.NotFound, async () => await CheckAsync(new CheckStoreRequest { ExperimentId = "check/none" }));
        await RpcAssert.InvalidField("experiment_id", async () => await CheckAsync(new CheckStoreRequest { ExperimentId = "bad id" }));
    }

    private async Task<(List<CheckStoreUpdate> Updates, StoreCheckSummary Summary)> CheckAsync(CheckStoreRequest request)
    {
        using var call = Admin.CheckStore(request);
        var updates = new List<CheckStoreUpdate>();
        await foreach (var update in call.ResponseStream.ReadAllAsync())
        {
            updates.Add(update);
        }

        Assert.Equal(CheckStoreUpdate.UpdateOneofCase.Summary, updates[^1].UpdateCase);
        return (updates, updates[^1].Summary);
    }
}
