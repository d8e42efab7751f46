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
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            using var channel = TestChannels.Create(seedd.Address);
            await new SeedService.SeedServiceClient(channel).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "lost/blocks", Root = "9" });
            var runs = new RunService.RunServiceClient(channel);
            for (uint worker = 0; worker < 100; worker++)
            {
                var report = new ReportFingerprintsRequest { ExperimentId = "lost/blocks", RunId = "r", Worker = worker };
                report.Steps.AddRange(Enumerable.Range(0, 224).Select(s => new StepFingerprint { Step = s, Digests = { Digests.Scalar("loss", s + worker) } }));
                await runs.ReportFingerprintsAsync(report);
            }

            Assert.Equal(0, await seedd.StopAsync());
        }

        // 100 processes: a row of blocks is 1,600 steps, more than a page, so each page is one row.
        var lost = $"lost/blocks|r|{lostBlock:x16}|{3:x8}";
        using (var file = new LiteDB.LiteDatabase(new LiteDB.Engine.LiteEngine(new LiteDB.Engine.EngineSettings { Filename = db, Collation = LiteDB.Collation.Binary })))
        {
            Assert.True(file.GetCollection("fingerprint_blocks").Delete(lost));
        }

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
}
