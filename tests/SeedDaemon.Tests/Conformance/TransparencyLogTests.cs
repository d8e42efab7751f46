using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using SeedDaemon.Derivation;
using SeedDaemon.Ledger;
using SeedDaemon.Tests.Ledger;
using SeedDaemon.V1;
using Ctl = SeedDaemon.Testing.Seedctl;

namespace SeedDaemon.Tests.Conformance;

/// <summary>
/// The ledger as a transparency log, on each backend, checked by code this project did not write:
/// seedctl's proof bundles and consistency proofs verified by Go's sumdb/note and sumdb/tlog; the
/// checkpoint's root recomputed from the events through the entry encoding as docs/audit.md
/// documents it (an encoder in this test, not seedd's).
/// </summary>
public abstract class TransparencyLogTests<TDaemon>(TDaemon daemon) : IClassFixture<TDaemon>
    where TDaemon : ConformanceDaemon
{
    private const int Ok = 0;
    private const int InvalidArgument = 6;
    private const int VerificationFailed = 5;
    private const int Failed = 1;
    private const int Usage = 2;

    [Fact]
    public async Task Seedctl_proofs_and_consistency_verify_with_Gos_note_and_tlog_and_the_root_is_the_documented_entries()
    {
        const string id = "tlog/proofs";
        using var folder = new TempFolder();
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "4242" });
        await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = 7, Library = "torch" });
        await Batch(id, Enumerable.Range(0, 600).Select(w => (uint)w), "numpy");
        foreach (var w in new uint[] { 900, 901, 7 })
        {
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = id, Worker = w, Library = "torch" });
        }

        var keyFile = folder.File("seedd.vkey");
        var key = (await Ctl.Expect(Ok, daemon.Address, "ledger", "key")).Trim();
        await File.WriteAllTextAsync(keyFile, key + "\n");
        var oldCheckpoint = folder.File("old.checkpoint");
        await File.WriteAllTextAsync(oldCheckpoint, await Ctl.Expect(Ok, daemon.Address, "ledger", "checkpoint", id));

        // The root the checkpoint signs is the RFC 9162 root of the documented entries of the events, in order.
        var events = await daemon.Audit.EventsAsync(id, pageSize: 1000);
        Assert.Equal(604, events.Count);
        var checkpoint = await daemon.Audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = id });
        Assert.Equal(604, checkpoint.TreeSize);
        Assert.Equal(MerkleTree.Root([.. events.Select(e => MerkleTree.LeafHash(DocumentedEntry(id, e)))]), checkpoint.RootHash.ToByteArray());
        Assert.StartsWith($"{key.Split('+')[0]}/{id}\n604\n", checkpoint.Note, StringComparison.Ordinal);

        var oracle = new List<string>();
        var bundles = new List<(uint Worker, string Library, int Index)> { (7, "torch", 0), (255, "numpy", 256), (300, "numpy", 301), (901, "torch", 602) };
        foreach (var (worker, library, index) in bundles)
        {
            var file = folder.File($"proof-{worker}.json");
            await Ctl.Expect(Ok, daemon.Address, "seeds", "prove", "--experiment", id, "--worker", worker.ToString(CultureInfo.InvariantCulture), "--library", library, "-o", file);
            var verified = await Ctl.Expect(Ok, daemon.Address, "verify-proof", file, "--key", keyFile, "--output", "json");
            using var json = JsonDocument.Parse(verified[..(verified.LastIndexOf('}') + 1)]);
            Assert.Equal(SeedSeqV1.Derive(4242, worker, library, "").Seed64.ToString(CultureInfo.InvariantCulture), json.RootElement.GetProperty("seed64").GetString());
            Assert.Equal(index, json.RootElement.GetProperty("index").GetInt64());
            using var bundle = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            Assert.Equal(DocumentedEntry(id, events[index]), bundle.RootElement.GetProperty("entry").GetBytesFromBase64());
            oracle.Add($"bundle {key} {file}");
        }

        // The log grows past another stored subtree; today's log extends the checkpoint kept before.
        await Batch(id, Enumerable.Range(1000, 300).Select(w => (uint)w), "python");
        var consistency = await Ctl.Expect(Ok, daemon.Address, "ledger", "consistency", id, "--since", oldCheckpoint, "--key", keyFile, "--output", "json");

        // The kept checkpoint saved with a newline too many (echo >> file), or with CRLF, is still the checkpoint.
        var resaved = folder.File("resaved.checkpoint");
        await File.WriteAllTextAsync(resaved, (await File.ReadAllTextAsync(oldCheckpoint)).Replace("\n", "\r\n", StringComparison.Ordinal) + "\r\n");
        await Ctl.Expect(Ok, daemon.Address, "ledger", "consistency", id, "--since", resaved, "--key", keyFile);
        using (var json = JsonDocument.Parse(consistency))
        {
            Assert.Equal(604, json.RootElement.GetProperty("old_size").GetInt64());
            Assert.Equal(904, json.RootElement.GetProperty("new_size").GetInt64());
            var proof = string.Join(',', json.RootElement.GetProperty("proof").EnumerateArray().Select(p => p.GetString()));
            oracle.Add($"consistency {key} {B64(await File.ReadAllTextAsync(oldCheckpoint))} {B64(json.RootElement.GetProperty("checkpoint").GetString()!)} {proof}");
        }

        var answers = await GoOracle.RunAsync("proof_oracle.go", oracle);
        Assert.Equal([.. bundles.Select(b => $"ok {key.Split('+')[0]}/{id} {b.Index} 604"), "ok"], answers);
    }

    [Fact]
    public async Task Sizes_past_the_log_forged_signatures_and_changed_bundles_are_refused_by_name()
    {
        const string id = "tlog/bad";
        const string other = "tlog/bad-other";
        using var folder = new TempFolder();
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = id, Root = "9" });
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = other, Root = "9" });
        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => daemon.Audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = id }).ResponseAsync);
        await Batch(id, Enumerable.Range(0, 40).Select(w => (uint)w), "torch");
        await Batch(other, Enumerable.Range(0, 3).Select(w => (uint)w), "torch");

        var past = await RpcAssert.FailsWith(StatusCode.OutOfRange, () => daemon.Audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = id, TreeSize = 41 }).ResponseAsync);
        Assert.Contains("holds 40 entries", past.Status.Detail, StringComparison.Ordinal);
        await RpcAssert.InvalidField("tree_size", () => daemon.Audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = id, TreeSize = -1 }).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.OutOfRange, () => daemon.Audit.ProveInclusionAsync(new ProveInclusionRequest { ExperimentId = id, LeafIndex = 40 }).ResponseAsync);
        await RpcAssert.InvalidField("leaf_index", () => daemon.Audit.ProveInclusionAsync(new ProveInclusionRequest { ExperimentId = id, LeafIndex = 30, TreeSize = 20 }).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => daemon.Audit.ProveInclusionAsync(new ProveInclusionRequest { ExperimentId = id, Key = new ProofKey { Worker = 99, Library = "torch" } }).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => daemon.Audit.ProveInclusionAsync(new ProveInclusionRequest { ExperimentId = "tlog/none", LeafIndex = 0 }).ResponseAsync);
        await RpcAssert.InvalidField("old_size", () => daemon.Audit.ProveConsistencyAsync(new ProveConsistencyRequest { ExperimentId = id, OldSize = 0 }).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.OutOfRange, () => daemon.Audit.ProveConsistencyAsync(new ProveConsistencyRequest { ExperimentId = id, OldSize = 41 }).ResponseAsync);
        await Ctl.Expect(InvalidArgument, daemon.Address, "ledger", "checkpoint", id, "--size", "41");

        var keyFile = folder.File("seedd.vkey");
        var key = (await Ctl.Expect(Ok, daemon.Address, "ledger", "key")).Trim();
        await File.WriteAllTextAsync(keyFile, key);
        var good = folder.File("good.json");
        await Ctl.Expect(Ok, daemon.Address, "seeds", "prove", "--experiment", id, "--worker", "17", "--library", "torch", "-o", good);
        foreach (var place in new[] { folder.File("no-such-folder/proof.json"), folder.Path })
        {
            var refused = await Ctl.Expect(Failed, daemon.Address, "seeds", "prove", "--experiment", id, "--worker", "17", "--library", "torch", "-o", place);
            Assert.Contains($"cannot write {place}", refused, StringComparison.Ordinal);
            Assert.False(File.Exists(place + ".partial"), "a refused write left its .partial file");
        }

        var bundle = JsonDocument.Parse(await File.ReadAllTextAsync(good)).RootElement;
        var entry = bundle.GetProperty("entry").GetBytesFromBase64();
        var note = bundle.GetProperty("checkpoint").GetString()!;

        // Another key with the same name re-signs the same checkpoint text: the signature is not the deployment's.
        var forger = NoteSigner.Generate(key.Split('+')[0]);
        var reSigned = forger.Sign(note[..(note.IndexOf("\n\n", StringComparison.Ordinal) + 1)]);
        var otherCheckpoint = (await daemon.Audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = other })).Note;
        var changedEntry = (byte[])entry.Clone();
        changedEntry[1 + 4 + id.Length + 8 + 3] ^= 0x01; // the worker's last byte: worker 16's entry
        var cases = new (string Name, Action<Dictionary<string, object>> Change, string Says)[]
        {
            ("entry", b => b["entry"] = Convert.ToBase64String(changedEntry), "audit path does not lead"),
            ("index", b => b["index"] = 16, "audit path does not lead"),
            ("tree_size", b => b["tree_size"] = 39, "tree_size 39"),
            ("resigned", b => b["checkpoint"] = reSigned, "does not verify with key"),
            ("truncated", b => b["checkpoint"] = note[..^12] + "\n", "does not verify with key"),
            ("other-experiment", b => b["checkpoint"] = otherCheckpoint, "not of 'tlog/bad'"),
            ("blank-line", b => b["checkpoint"] = note + "\n", "ends with a blank line where its signature lines belong"),
            ("path", b => b["audit_path"] = ((string[])b["audit_path"])[..^1], "audit path does not lead"),
        };
        var oracle = new List<string>();
        foreach (var (name, change, says) in cases)
        {
            var fields = new Dictionary<string, object>
            {
                ["format"] = "seedd-proof-v1",
                ["entry"] = Convert.ToBase64String(entry),
                ["index"] = bundle.GetProperty("index").GetInt64(),
                ["tree_size"] = bundle.GetProperty("tree_size").GetInt64(),
                ["audit_path"] = bundle.GetProperty("audit_path").EnumerateArray().Select(p => p.GetString()!).ToArray(),
                ["checkpoint"] = note,
            };
            change(fields);
            var file = folder.File($"{name}.json");
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(fields));
            var output = await Ctl.Expect(VerificationFailed, daemon.Address, "verify-proof", file, "--key", keyFile);
            Assert.True(output.Contains(says, StringComparison.Ordinal), $"{name}: {output}");
            oracle.Add($"bundle {key} {file}");
        }

        // A key file of another kind is a usage error naming what it holds, never exit 5 (what a forgery gets).
        var wrongKeys = new (string Name, string Text, string Says)[]
        {
            ("private", forger.Encoded + "\n", "holds the signer's private key"),
            ("json", $"{{\"verifier_key\": \"{key}\"}}\n", "holds JSON"),
            ("two", $"{key}\n{key}\n", "holds more than one line"),
        };
        foreach (var (name, text, says) in wrongKeys)
        {
            var wrong = folder.File($"wrong-{name}.vkey");
            await File.WriteAllTextAsync(wrong, text);
            var refused = await Ctl.Expect(Usage, daemon.Address, "verify-proof", good, "--key", wrong);
            Assert.True(refused.Contains(says, StringComparison.Ordinal), $"{name}: {refused}");
            Assert.Contains(says, await Ctl.Expect(Usage, daemon.Address, "ledger", "consistency", id, "--since", good, "--key", wrong), StringComparison.Ordinal);
        }

        // Go's verifier refuses every one of them too.
        var answers = await GoOracle.RunAsync("proof_oracle.go", oracle);
        Assert.All(answers, a => Assert.StartsWith("error:", a, StringComparison.Ordinal));

        // A checkpoint of another experiment, or signed by another key, is not one this log can extend.
        var since = folder.File("other.checkpoint");
        await File.WriteAllTextAsync(since, otherCheckpoint);
        Assert.Contains("not of 'tlog/bad'", await Ctl.Expect(VerificationFailed, daemon.Address, "ledger", "consistency", id, "--since", since), StringComparison.Ordinal);
        var verdict = await Seedctl.RunAsync("ledger", "consistency", id, "--since", since, "--output", "json", "--address", daemon.Address);
        Assert.Equal(VerificationFailed, verdict.ExitCode);
        Assert.False(JsonDocument.Parse(verdict.Stdout).RootElement.GetProperty("ok").GetBoolean());
        await File.WriteAllTextAsync(since, reSigned);
        Assert.Contains("does not verify with key", await Ctl.Expect(VerificationFailed, daemon.Address, "ledger", "consistency", id, "--since", since), StringComparison.Ordinal);
        await File.WriteAllTextAsync(since, forger.Sign($"{key.Split('+')[0]}/{id}\n400\n{Convert.ToBase64String(new byte[32])}\n"));
        await Ctl.Expect(VerificationFailed, daemon.Address, "ledger", "consistency", id, "--since", since, "--key", keyFile);
    }

    /// <summary>A seed event's entry as docs/audit.md lays it out (seedd-ledger-v2), from the event's listed fields.</summary>
    internal static byte[] DocumentedEntry(string experimentId, LedgerEvent e)
    {
        var bytes = new List<byte> { 0x01 };
        void Str(string s)
        {
            var utf8 = Encoding.UTF8.GetBytes(s);
            U32((uint)utf8.Length);
            bytes.AddRange(utf8);
        }

        void U32(uint v)
        {
            var b = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(b, v);
            bytes.AddRange(b);
        }

        void U64(ulong v)
        {
            var b = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(b, v);
            bytes.AddRange(b);
        }

        Str(experimentId);
        U64((ulong)e.TimeUnixMs);
        U32(e.Worker);
        Str(e.Library);
        Str(e.Stream);
        U64(e.Seed64);
        Str(e.Principal);
        Str(e.Peer);
        Str(e.ClientHost);
        U64((ulong)e.ClientPid);
        U32((uint)e.ClientLabels.Count);
        foreach (var (k, v) in e.ClientLabels.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            Str(k);
            Str(v);
        }

        return [.. bytes];
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private Task<BatchGetSeedsResponse> Batch(string id, IEnumerable<uint> workers, string library)
    {
        var batch = new BatchGetSeedsRequest();
        batch.Requests.AddRange(workers.Select(w => new GetSeedRequest { ExperimentId = id, Worker = w, Library = library }));
        return daemon.Seeds.BatchGetSeedsAsync(batch).ResponseAsync;
    }
}
