using Grpc.Core;
using SeedDaemon.Client;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// A block of fingerprints that the file lost (its document and index entry gone, as a damaged index
/// page loses it) is found by the step links wherever it lies, also in a row of blocks that a page
/// before the failing one held: a run is never served shorter than it was recorded.
/// </summary>
public sealed class LostBlockTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(12)]
    public async Task A_lost_block_is_DATA_LOSS_naming_the_block_after_it_never_a_shorter_run(int lostBlock)
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");

        // 100 processes: a row of blocks is 1,600 steps, more than a page, so each page is one row.
        await WriteRunThenLoseAsync(db, 224, lostBlock);

        await using var restarted = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        using var again = TestChannels.Create(restarted.Address);
        var streamed = 0;
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = new RunService.RunServiceClient(again).StreamFingerprints(new StreamFingerprintsRequest { ExperimentId = "lost/blocks", RunId = "r", Packed = true });
            await foreach (var chunk in call.ResponseStream.ReadAllAsync())
            {
                streamed += PackedStep.Read(chunk).Count();
            }
        });
        Assert.Equal(StatusCode.DataLoss, error.StatusCode);
        Assert.Contains($"lost/blocks|r|{lostBlock + 1:x16}|{3:x8}", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("a block of fingerprints between them is missing", error.Status.Detail, StringComparison.Ordinal);
        Assert.True(streamed < 100 * 224);
    }

    /// <summary>
    /// A report whose steps would join a block the file lost is refused alone (DATA_LOSS naming the
    /// block, nothing recorded), never the group commit it travels in: the seeds asked for beside it
    /// are all answered, and the other processes go on reporting.
    /// </summary>
    [Fact]
    public async Task A_report_that_would_join_a_lost_block_is_refused_alone_and_the_seeds_beside_it_are_answered()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await WriteRunThenLoseAsync(db, 221, 13);
        await using var restarted = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        using var channel = TestChannels.Create(restarted.Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        var runs = new RunService.RunServiceClient(channel);
        // A step the lost block held is not "never recorded": the blocks' links say it was (DATA_LOSS, naming the block).
        var missing = await Assert.ThrowsAsync<RpcException>(async () => await runs.GetFingerprintAsync(new GetFingerprintRequest { ExperimentId = "lost/blocks", RunId = "r", Worker = 3, Step = 215 }));
        Assert.Equal(StatusCode.DataLoss, missing.StatusCode);
        Assert.Contains("holds step 220 of the process", missing.Status.Detail, StringComparison.Ordinal);
        for (var round = 0; round < 10; round++)
        {
            var batches = Enumerable.Range(0, 8).Select(b => seeds.BatchGetSeedsAsync(new BatchGetSeedsRequest
            {
                Requests = { Enumerable.Range(0, 50).Select(w => new GetSeedRequest { ExperimentId = "lost/blocks", Worker = (uint)((round * 1000) + (b * 50) + w), Library = "torch" }) },
            }).ResponseAsync).ToList();
            var error = await Assert.ThrowsAsync<RpcException>(async () => await runs.ReportFingerprintsAsync(Report(3, 221, 222)));
            Assert.Equal(StatusCode.DataLoss, error.StatusCode);
            Assert.Contains("holds step 220 of worker 3", error.Status.Detail, StringComparison.Ordinal);
            Assert.All(await Task.WhenAll(batches), answer => Assert.Equal(50, answer.Seeds.Count));
        }

        Assert.Equal(1, (await runs.ReportFingerprintsAsync(Report(4, 221))).Recorded);
        var process = (await runs.GetRunAsync(new GetRunRequest { ExperimentId = "lost/blocks", RunId = "r" })).Processes.Single(p => p.Worker == 3);
        Assert.Equal(220, process.LastStep);
    }

    private static ReportFingerprintsRequest Report(uint worker, params int[] steps)
    {
        var report = new ReportFingerprintsRequest { ExperimentId = "lost/blocks", RunId = "r", Worker = worker };
        report.Steps.AddRange(steps.Select(s => new StepFingerprint { Step = s, Digests = { Digests.Scalar("loss", s + worker) } }));
        return report;
    }

    /// <summary>A run of 100 processes reporting steps 0 to <paramref name="steps"/> - 1 in a real file; then worker 3's block <paramref name="lostBlock"/> deleted from it with LiteDB.</summary>
    private static async Task WriteRunThenLoseAsync(string db, int steps, int lostBlock)
    {
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            using var channel = TestChannels.Create(seedd.Address);
            await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "lost/blocks", Root = "9" });
            var runs = new RunService.RunServiceClient(channel);
            for (uint worker = 0; worker < 100; worker++)
            {
                await runs.ReportFingerprintsAsync(Report(worker, [.. Enumerable.Range(0, steps)]));
            }

            Assert.Equal(0, await seedd.StopAsync());
        }

        using var file = new LiteDB.LiteDatabase(new LiteDB.Engine.LiteEngine(new LiteDB.Engine.EngineSettings { Filename = db, Collation = LiteDB.Collation.Binary }));
        Assert.True(file.GetCollection("fingerprint_blocks").Delete($"lost/blocks|r|{lostBlock:x16}|{3:x8}"));
    }
}
