using System.Text.Json.Nodes;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>seedd_client answers the audit questions without .NET: seeds, events, verification, and the manifest seedctl writes.</summary>
public sealed class PythonAuditTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    [Fact]
    public async Task Python_lists_verifies_and_exports_the_same_manifest_as_seedctl_and_writes_nothing()
    {
        const string Experiment = "python/audit";
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "808", Labels = { ["owner"] = "ml" } });
        var batch = new BatchGetSeedsRequest();
        foreach (var worker in new uint[] { 2, 3, 4, 5 })
        {
            batch.Requests.Add(new GetSeedRequest { ExperimentId = Experiment, Worker = worker, Library = "torch" });
            batch.Requests.Add(new GetSeedRequest { ExperimentId = Experiment, Worker = worker, Library = "numpy", Stream = "dataloader" });
        }

        await daemon.Seeds.BatchGetSeedsAsync(batch);
        await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = Experiment, Worker = 3, Library = "torch" });
        await SampleRuns.RecordAsync(daemon.Channel, Experiment);

        using var folder = new TempFolder();
        var python = folder.File("python.manifest.json");
        var result = await PythonClientPackage.ScenarioAsync("audit", daemon.Address, Experiment, python);

        var seeds = result.GetProperty("seeds").EnumerateArray().ToList();
        Assert.Equal(["numpy/dataloader", "torch/"], seeds.Select(s => $"{s.GetProperty("library").GetString()}/{s.GetProperty("stream").GetString()}"));
        Assert.All(seeds, s => Assert.Equal(3, s.GetProperty("worker").GetInt32()));
        var events = result.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal([3, 4, 3], events.Select(e => e.GetProperty("worker").GetInt32()));
        Assert.True(result.GetProperty("right").GetProperty("match").GetBoolean());
        Assert.False(result.GetProperty("wrong").GetProperty("match").GetBoolean());
        Assert.Equal(SeedSeqV1.Derive(808, 3, "torch", "").Seed, result.GetProperty("wrong").GetProperty("expected_seed").GetUInt64());
        Assert.True(result.GetProperty("ledger").GetProperty("ok").GetBoolean());
        Assert.Equal(9, result.GetProperty("ledger").GetProperty("events_checked").GetInt32());
        Assert.Equal([8, 9], result.GetProperty("counts").EnumerateArray().Select(c => c.GetInt32()));
        Assert.Equal("ExperimentNotFoundError", result.GetProperty("missing").GetString());

        // The document seedctl export writes, field for field (exported_at aside), and it verifies offline.
        var dotnet = folder.File("seedctl.manifest.json");
        await Seedctl.Expect(0, daemon.Address, "export", Experiment, "-o", dotnet, "--quiet");
        Assert.True(JsonNode.DeepEquals(Without(dotnet, "exported_at"), Without(python, "exported_at")), await File.ReadAllTextAsync(python));
        await Seedctl.Expect(0, daemon.Address, "verify-manifest", python);

        // Looking wrote nothing.
        Assert.Equal(9ul, (await daemon.Audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = Experiment })).EventsChecked);
    }

    private static JsonObject Without(string path, string field)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        node.Remove(field);
        return node;
    }
}
