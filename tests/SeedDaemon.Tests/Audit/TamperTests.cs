extern alias daemon;

using System.Text.Json;
using System.Text.Json.Nodes;
using LiteDB;
using SeedDaemon.V1;
using Ctl = SeedDaemon.Testing.Seedctl;

namespace SeedDaemon.Tests.Audit;

/// <summary>Tampering is found and named: in the daemon's file (ledger verification) and in a manifest (offline).</summary>
public sealed class TamperTests
{
    [Fact]
    public async Task An_event_altered_in_the_database_file_is_found_and_named()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await IssueAndStop(db, "tamper/db", 10, verify: true);

        // Someone with write access to the file changes who asked for event 6 (its request's peer).
        EditEvents(db, events =>
        {
            var sixth = events.FindById("tamper/db|0000000000000006");
            sixth["o"].AsArray[0].AsArray[2] = "ipv4:10.0.0.66:1234";
            events.Update(sixth);
        });

        await VerifyLedger(db, "tamper/db", async (seedd, result) =>
        {
            Assert.False(result.Ok);
            Assert.Equal(6ul, result.FirstBrokenSequence);
            Assert.Contains("altered", result.Reason, StringComparison.Ordinal);

            var output = await Ctl.Expect(5, seedd.Address, "ledger", "verify", "tamper/db");
            Assert.Contains("event 6", output, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task An_event_altered_inside_a_batch_document_is_named_exactly()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var client = new SeedService.SeedServiceClient(channel);
            await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "tamper/batch", Root = "17" });
            var batch = new BatchGetSeedsRequest();
            batch.Requests.AddRange(Enumerable.Range(0, 100).Select(w => new GetSeedRequest { ExperimentId = "tamper/batch", Worker = (uint)w, Library = "numpy" }));
            await client.BatchGetSeedsAsync(batch);
            await seedd.StopAsync();
        }

        // The batch's 100 events share one document, packed 48 bytes an event (README, Storage); someone
        // swaps the worker and seed (bytes 4 to 15) of the 42nd and the 43rd event.
        EditEvents(db, events =>
        {
            var document = Assert.Single(events.FindAll());
            var packed = document["e"].AsBinary;
            var forty2nd = packed.AsSpan(41 * 48 + 4, 12).ToArray();
            packed.AsSpan(42 * 48 + 4, 12).CopyTo(packed.AsSpan(41 * 48 + 4, 12));
            forty2nd.CopyTo(packed.AsSpan(42 * 48 + 4, 12));
            document["e"] = packed;
            events.Update(document);
        });

        await VerifyLedger(db, "tamper/batch", (_, result) =>
        {
            Assert.False(result.Ok);
            Assert.Equal(42ul, result.FirstBrokenSequence);
            Assert.Equal(41ul, result.EventsChecked);
            Assert.Contains("altered", result.Reason, StringComparison.Ordinal);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_deleted_event_is_found()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await IssueAndStop(db, "tamper/gap", 5, verify: false);

        EditEvents(db, events => events.Delete("tamper/gap|0000000000000003"));

        await VerifyLedger(db, "tamper/gap", (_, result) =>
        {
            Assert.False(result.Ok);
            Assert.Equal(3ul, result.FirstBrokenSequence);
            Assert.Contains("event 3 is missing", result.Reason, StringComparison.Ordinal);
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task A_manifest_with_one_changed_seed_or_event_fails_verification_naming_it()
    {
        using var folder = new TempFolder();
        var manifest = folder.File("manifest.json");
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", folder.File("seeds.db")))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var client = new SeedService.SeedServiceClient(channel);
            await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "tamper/manifest", Root = "13" });
            for (uint worker = 0; worker < 8; worker++)
            {
                await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "tamper/manifest", Worker = worker, Library = "numpy" });
            }

            await Ctl.Expect(0, seedd.Address, "export", "tamper/manifest", "-o", manifest);
        }

        await Ctl.Expect(0, "http://127.0.0.1:1", "verify-manifest", manifest);

        var changedSeed = folder.File("changed-seed.json");
        await Edit(manifest, changedSeed, m => m["seeds"]![4]!["seed64"] = "12345");
        var seedOutput = await Ctl.Expect(5, "http://127.0.0.1:1", "verify-manifest", changedSeed);
        Assert.Contains("seed 5 (worker 4", seedOutput, StringComparison.Ordinal);

        var changedEvent = folder.File("changed-event.json");
        await Edit(manifest, changedEvent, m => m["events"]![2]!["worker"] = 6);
        var eventOutput = await Ctl.Expect(5, "http://127.0.0.1:1", "verify-manifest", changedEvent);
        Assert.Contains("event 3", eventOutput, StringComparison.Ordinal);
        Assert.Contains("altered", eventOutput, StringComparison.Ordinal);

        // The truncated seed (the one a user applies) is outside the hash: it is checked against seed64 and the width.
        var changedEventSeed = folder.File("changed-event-seed.json");
        await Edit(manifest, changedEventSeed, m => m["events"]![5]!["seed"] = (ulong.Parse(m["events"]![5]!["seed"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) ^ 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var eventSeedOutput = await Ctl.Expect(5, "http://127.0.0.1:1", "verify-manifest", changedEventSeed);
        Assert.Contains("event 6: seed ", eventSeedOutput, StringComparison.Ordinal);
        Assert.Contains("32 bits", eventSeedOutput, StringComparison.Ordinal);

        var changedWidth = folder.File("changed-width.json");
        await Edit(manifest, changedWidth, m => m["seeds"]![1]!["width"] = 64);
        Assert.Contains("width 64 is not library 'numpy''s 32", await Ctl.Expect(5, "http://127.0.0.1:1", "verify-manifest", changedWidth), StringComparison.Ordinal);

        // seeds[] is held against events[], which the chain and the tree prove: a row edited, dropped or doubled is found.
        var tableEdits = new (string Name, Action<JsonNode> Edit, string Says)[]
        {
            ("requester", m => m["seeds"]![3]!["first_requester"] = "ipv4:10.9.9.9:1", "seed 4 (worker 3, library 'numpy', stream ''): first issued at"),
            ("count", m => m["seeds"]![2]!["issue_count"] = 2, "seed 3 (worker 2, library 'numpy', stream ''): issue_count 2, but events[] issued it 1 times: the table was altered"),
            ("time", m => m["seeds"]![0]!["first_issue_time"] = "2020-01-01T00:00:00.0000000Z", "seed 1 (worker 0, library 'numpy', stream ''): first issued at 1577836800000 ms"),
            ("zero-count", m => m["seeds"]![5]!["issue_count"] = 0, "seed 6 (worker 5, library 'numpy', stream ''): issue_count 0, but events[] issued it 1 times: the table was altered"),
            ("doubled", m => m["seeds"]!.AsArray().Add(m["seeds"]![0]!.DeepClone()), "the key is listed twice in seeds[]"),
            ("event-time", m => m["events"]![1]!["time"] = "2020-01-01T00:00:00.0000000Z", "event 2: time '2020-01-01T00:00:00.0000000Z' is not its time_unix_ms"),
        };
        foreach (var (name, edit, says) in tableEdits)
        {
            var file = folder.File($"table-{name}.json");
            await Edit(manifest, file, edit);
            var output = await Ctl.Expect(5, "http://127.0.0.1:1", "verify-manifest", file);
            Assert.True(output.Contains(says, StringComparison.Ordinal), $"{name}: {output}");
        }

        // What an export taken while the experiment issued looks like (a key issued after the seeds were read: in
        // events[] only) verifies, and says so; a table that lags cannot be told from one with a row taken out.
        var lagging = folder.File("lagging.json");
        await Edit(manifest, lagging, m => m["seeds"]!.AsArray().RemoveAt(7));
        Assert.Contains("1 key(s) were issued, or issued again, after the export read its seeds", await Ctl.Expect(0, "http://127.0.0.1:1", "verify-manifest", lagging), StringComparison.Ordinal);

        // v2: the tree's root is recomputed from the events; a manifest of the format before (v1, no tree) still verifies.
        var changedRoot = folder.File("changed-root.json");
        await Edit(manifest, changedRoot, m => m["tree"]!["root"] = Convert.ToBase64String(new byte[32]));
        Assert.Contains("tree: root", await Ctl.Expect(5, "http://127.0.0.1:1", "verify-manifest", changedRoot), StringComparison.Ordinal);
        var v1 = folder.File("v1.json");
        await Edit(manifest, v1, m =>
        {
            m["format"] = "seedd-manifest-v1";
            m.AsObject().Remove("tree");
        });
        Assert.Contains("yes", await Ctl.Expect(0, "http://127.0.0.1:1", "verify-manifest", v1), StringComparison.Ordinal);
        var keyFile = folder.File("any.vkey");
        await File.WriteAllTextAsync(keyFile, SeedDaemon.Ledger.NoteSigner.Generate("seedd.test").VerifierKey);
        Assert.Contains("has no signed checkpoint to check", await Ctl.Expect(5, "http://127.0.0.1:1", "verify-manifest", v1, "--key", keyFile), StringComparison.Ordinal);
        var v2WithoutTree = folder.File("v2-without-tree.json");
        await Edit(manifest, v2WithoutTree, m => m.AsObject().Remove("tree"));
        Assert.Contains("has no tree", await Ctl.Expect(5, "http://127.0.0.1:1", "verify-manifest", v2WithoutTree), StringComparison.Ordinal);

        foreach (var tampered in new[] { changedSeed, changedEvent, changedEventSeed, changedWidth, changedRoot })
        {
            var oracle = await ProcessRunner.RunAsync(Python.Interpreter, [TestPaths.PythonScript("manifest_oracle.py"), tampered]);
            Assert.True(oracle.ExitCode == 1 && oracle.Stderr.Length > 0, $"the independent oracle accepted {tampered}: {oracle.Stdout}{oracle.Stderr}");
        }

        var truncated = folder.File("truncated.json");
        await Edit(manifest, truncated, m => ((JsonArray)m["events"]!).RemoveAt(7));
        Assert.Contains("chain_head", await Ctl.Expect(5, "http://127.0.0.1:1", "verify-manifest", truncated), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stored_subtree_or_the_trees_edge_altered_is_found_and_a_rewritten_log_does_not_extend_a_kept_checkpoint()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await IssueAndStop(db, "tamper/tree", 300, verify: true);

        // The auditor kept a checkpoint and the verifier key.
        var checkpoint = folder.File("kept.checkpoint");
        var keyFile = folder.File("seedd.vkey");
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            await File.WriteAllTextAsync(checkpoint, await Ctl.Expect(0, seedd.Address, "ledger", "checkpoint", "tamper/tree"));
            await File.WriteAllTextAsync(keyFile, await Ctl.Expect(0, seedd.Address, "ledger", "key"));
        }

        // A stored subtree (events 1 to 256) changed: named by the events it covers.
        var copy = folder.File("node.db");
        File.Copy(db, copy);
        EditCollection(copy, "tree_nodes", nodes =>
        {
            var node = Assert.Single(nodes.FindAll());
            node["h"] = new byte[32];
            nodes.Update(node);
        });
        await VerifyLedger(copy, "tamper/tree", (_, result) =>
        {
            Assert.False(result.Ok);
            Assert.Contains("stored subtree of events 1 to 256", result.Reason, StringComparison.Ordinal);
            return Task.CompletedTask;
        });

        // The tile lost altogether: a proof that needs it is DATA_LOSS naming it, never a wrong proof or INTERNAL.
        copy = folder.File("lost-tile.db");
        File.Copy(db, copy);
        EditCollection(copy, "tree_nodes", nodes => Assert.Equal(1, nodes.DeleteAll()));
        await VerifyLedger(copy, "tamper/tree", async (seedd, result) =>
        {
            Assert.False(result.Ok);
            Assert.Contains("it is missing node 0 of level 8", result.Reason, StringComparison.Ordinal);
            using var channel = TestChannels.Create(seedd.Address);
            var lost = await RpcAssert.FailsWith(Grpc.Core.StatusCode.DataLoss, () => new AuditService.AuditServiceClient(channel).ProveInclusionAsync(new ProveInclusionRequest { ExperimentId = "tamper/tree", LeafIndex = 280 }).ResponseAsync);
            Assert.Contains("tree_nodes", lost.Status.Detail, StringComparison.Ordinal);
        });

        // A tile whose hashes are not whole (sealed as it is: the framing, not the checksum, finds it): the store check names it.
        copy = folder.File("torn-tile.db");
        File.Copy(db, copy);
        EditCollection(copy, "tree_nodes", nodes =>
        {
            var node = Assert.Single(nodes.FindAll());
            node["h"] = new byte[33];
            nodes.Update(node);
        });
        await VerifyLedger(copy, "tamper/tree", async (seedd, _) =>
        {
            var output = await Ctl.Expect(5, seedd.Address, "store", "check", "--duty", "100");
            Assert.Contains("collection \"tree_nodes\"", output, StringComparison.Ordinal);
            Assert.Contains("its hashes are not whole", output, StringComparison.Ordinal);
        });

        // The tree's right edge (what checkpoints are signed from) changed.
        copy = folder.File("edge.db");
        File.Copy(db, copy);
        EditCollection(copy, "experiments", experiments =>
        {
            var experiment = experiments.FindById("tamper/tree");
            var tree = experiment["tree"].AsBinary;
            tree[^1] ^= 0x01;
            experiment["tree"] = tree;
            experiments.Update(experiment);
        });
        await VerifyLedger(copy, "tamper/tree", (_, result) =>
        {
            Assert.False(result.Ok);
            Assert.Contains("right edge was altered", result.Reason, StringComparison.Ordinal);
            return Task.CompletedTask;
        });

        // Someone who can write the whole store rewrites the log with every hash recomputed (here: a log
        // issued again with event 6 for another key, signed with the same key): it verifies on its own,
        // but it does not extend the checkpoint kept before.
        var forged = Path.Combine(folder.Path, "forged", "seeds.db");
        Directory.CreateDirectory(Path.GetDirectoryName(forged)!);
        File.Copy(Path.Combine(folder.Path, "ledger.key"), Path.Combine(Path.GetDirectoryName(forged)!, "ledger.key"));
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", forged))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var client = new SeedService.SeedServiceClient(channel);
            await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "tamper/tree", Root = "11" });
            foreach (var worker in Enumerable.Range(0, 301).Where(w => w != 5))
            {
                await client.GetSeedAsync(new GetSeedRequest { ExperimentId = "tamper/tree", Worker = (uint)worker, Library = "torch" });
            }

            Assert.Contains("yes", await Ctl.Expect(0, seedd.Address, "ledger", "verify", "tamper/tree"), StringComparison.Ordinal);
            var output = await Ctl.Expect(5, seedd.Address, "ledger", "consistency", "tamper/tree", "--since", checkpoint, "--key", keyFile);
            Assert.Contains("does not extend the old checkpoint of 300", output, StringComparison.Ordinal);
        }
    }

    /// <summary>A daemon on <paramref name="db"/> issues one torch seed to each of <paramref name="workers"/> workers, then stops.</summary>
    private static async Task IssueAndStop(string db, string experiment, uint workers, bool verify)
    {
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        using var channel = TestChannels.Create(seedd.Address);
        var client = new SeedService.SeedServiceClient(channel);
        await client.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = experiment, Root = "11" });
        for (uint worker = 0; worker < workers; worker++)
        {
            await client.GetSeedAsync(new GetSeedRequest { ExperimentId = experiment, Worker = worker, Library = "torch" });
        }

        if (verify)
        {
            Assert.Contains("yes", await Ctl.Expect(0, seedd.Address, "ledger", "verify", experiment), StringComparison.Ordinal);
        }

        await seedd.StopAsync();
    }

    /// <summary>
    /// Someone with write access to the stopped daemon's file edits its ledger directly, and gives
    /// each document the checksum it would have (the checksum is not a secret: it finds damage, not
    /// tampering): what finds the edit is the hash chain.
    /// </summary>
    private static void EditEvents(string db, Action<ILiteCollection<BsonDocument>> edit) => EditCollection(db, "events", edit);

    private static void EditCollection(string db, string collection, Action<ILiteCollection<BsonDocument>> edit)
    {
        using var raw = new LiteDatabase($"Filename={db}");
        var events = raw.GetCollection(collection);
        edit(events);
        foreach (var document in events.FindAll().ToList())
        {
            events.Update(daemon::SeedDaemon.Daemon.Storage.LiteDb.DocumentSeal.Seal(document));
        }
    }

    /// <summary>Starts a daemon on <paramref name="db"/>, verifies the experiment's ledger and hands the answer (and the daemon) to <paramref name="check"/>.</summary>
    private static async Task VerifyLedger(string db, string experiment, Func<SeeddProcess, VerifyLedgerResponse, Task> check)
    {
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db);
        using var channel = TestChannels.Create(seedd.Address);
        await check(seedd, await new AuditService.AuditServiceClient(channel).VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = experiment }));
    }

    private static async Task Edit(string source, string target, Action<JsonNode> change)
    {
        var node = JsonNode.Parse(await File.ReadAllTextAsync(source))!;
        change(node);
        await File.WriteAllTextAsync(target, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
