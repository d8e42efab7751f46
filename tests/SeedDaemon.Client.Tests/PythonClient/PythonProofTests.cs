using System.Globalization;
using SeedDaemon.Derivation;
using SeedDaemon.V1;
using Ctl = SeedDaemon.Testing.Seedctl;

namespace SeedDaemon.Client.Tests.PythonClient;

/// <summary>
/// seedd_client's transparency-log checks against a real daemon: the proofs it asks for and the ones
/// seedctl wrote verify there; a changed bundle, or a daemon whose checkpoints the pinned key did not
/// sign, is refused; today's log extends the first checkpoint; a run keeps its checkpoint at close.
/// </summary>
public sealed class PythonProofTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    [Fact]
    public async Task The_Python_client_verifies_proofs_and_checkpoints_and_refuses_bad_ones_off_the_wire()
    {
        const string id = "python/proofs";
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "31337" });
        var batch = new BatchGetSeedsRequest();
        batch.Requests.AddRange(Enumerable.Range(0, 300).Select(w => new GetSeedRequest { ExperimentId = id, Worker = (uint)w, Library = "torch" }));
        await daemon.Seeds.BatchGetSeedsAsync(batch);

        using var folder = new TempFolder();
        var key = folder.File("seedd.vkey");
        await File.WriteAllTextAsync(key, await Ctl.Expect(0, daemon.Address, "ledger", "key"));
        var bundle = folder.File("proof.json");
        await Ctl.Expect(0, daemon.Address, "seeds", "prove", "--experiment", id, "--worker", "260", "--library", "torch", "-o", bundle);

        var result = await PythonClientPackage.ScenarioAsync("proofs", daemon.Address, id, bundle, key);
        Assert.Equal(300, result.GetProperty("first_size").GetInt32());
        Assert.Equal(5, result.GetProperty("mine").GetProperty("index").GetInt32());
        Assert.Equal(SeedSeqV1.Derive(31337, 5, "torch", "").Seed64.ToString(CultureInfo.InvariantCulture), result.GetProperty("mine").GetProperty("seed64").GetString());
        Assert.Equal(260, result.GetProperty("theirs").GetProperty("worker").GetInt32());
        var refused = result.GetProperty("refused");
        Assert.Contains("audit path does not lead", refused.GetProperty("entry").GetString(), StringComparison.Ordinal);
        Assert.Contains("audit path does not lead", refused.GetProperty("index").GetString(), StringComparison.Ordinal);
        Assert.Contains("audit path does not lead", refused.GetProperty("path").GetString(), StringComparison.Ordinal);
        Assert.Contains("index must be a whole number, 0 or more, as seedctl writes it; it is '5'", refused.GetProperty("index-text").GetString(), StringComparison.Ordinal);
        Assert.Contains("index must be a whole number, 0 or more, as seedctl writes it; it is False", refused.GetProperty("index-bool").GetString(), StringComparison.Ordinal);
        Assert.Contains("give the JSON object (json.load(file)), not a str", refused.GetProperty("as-text").GetString(), StringComparison.Ordinal);
        Assert.Contains("does not verify with key", refused.GetProperty("key").GetString(), StringComparison.Ordinal);
        Assert.Contains("does not verify with key", refused.GetProperty("pinned-prove").GetString(), StringComparison.Ordinal);
        Assert.Contains("does not verify with key", refused.GetProperty("pinned-checkpoint").GetString(), StringComparison.Ordinal);
        Assert.Equal(600, result.GetProperty("extended_size").GetInt32());

        var parameters = result.GetProperty("params");
        Assert.Equal("600", parameters.GetProperty("seedd.ledger.tree_size").GetString());
        var note = parameters.GetProperty("seedd.ledger.checkpoint").GetString()!;
        Assert.Equal(note, (await daemon.Audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = id, TreeSize = 600 })).Note);
    }
}
