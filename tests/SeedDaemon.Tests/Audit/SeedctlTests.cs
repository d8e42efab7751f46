using System.Text.Json;
using SeedDaemon.Derivation;
using SeedDaemon.V1;
using Ctl = SeedDaemon.Testing.Seedctl;

namespace SeedDaemon.Tests.Audit;

/// <summary>Every seedctl verb end to end, as its own process, against a real daemon.</summary>
public sealed class SeedctlTests(InProcessDaemon daemon) : IClassFixture<InProcessDaemon>
{
    private const int Ok = 0;
    private const int Usage = 2;
    private const int Unavailable = 3;
    private const int NotFound = 4;
    private const int VerificationFailed = 5;
    private const int AlreadyExists = 7;
    private const int FailedPrecondition = 8;

    [Fact]
    public async Task Experiments_create_show_list_and_freeze()
    {
        var created = await Ctl.Expect(Ok, daemon.Address, "experiments", "create", "ctl/exp", "--root", "1234", "--label", "owner=ml", "--label", "team=vision");
        Assert.Contains("ctl/exp", created, StringComparison.Ordinal);
        Assert.Contains("owner=ml,team=vision", created, StringComparison.Ordinal);

        var json = await Ctl.Expect(Ok, daemon.Address, "experiments", "show", "ctl/exp", "--output", "json");
        using (var document = JsonDocument.Parse(json))
        {
            Assert.Equal("1234", document.RootElement.GetProperty("root").GetString());
            Assert.Equal("seedseq-v1", document.RootElement.GetProperty("scheme").GetString());
        }

        Assert.Contains("ctl/exp", await Ctl.Expect(Ok, daemon.Address, "experiments", "list"), StringComparison.Ordinal);
        await Ctl.Expect(AlreadyExists, daemon.Address, "experiments", "create", "ctl/exp", "--root", "99");
        Assert.Contains("yes", await Ctl.Expect(Ok, daemon.Address, "experiments", "freeze", "ctl/exp"), StringComparison.Ordinal);
        await Ctl.Expect(FailedPrecondition, daemon.Address, "seeds", "get", "--experiment", "ctl/exp", "--worker", "1", "--library", "torch");
        await Ctl.Expect(NotFound, daemon.Address, "experiments", "show", "ctl/none");
    }

    [Fact]
    public async Task Seeds_get_list_and_verify()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ctl/seeds", Root = "77" });
        var expected = SeedSeqV1.Derive(77, 17, "numpy", "dataloader").Seed;
        var got = await Ctl.Expect(Ok, daemon.Address, "seeds", "get", "--experiment", "ctl/seeds", "--worker", "17", "--library", "numpy", "--stream", "dataloader");
        Assert.Contains(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), got, StringComparison.Ordinal);

        var listed = await Ctl.Expect(Ok, daemon.Address, "seeds", "list", "--experiment", "ctl/seeds", "--output", "json");
        using (var document = JsonDocument.Parse(listed))
        {
            var seed = Assert.Single(document.RootElement.EnumerateArray());
            Assert.Equal(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), seed.GetProperty("seed").GetString());
        }

        await Ctl.Expect(Ok, daemon.Address, "seeds", "verify", "--experiment", "ctl/seeds", "--worker", "17", "--library", "numpy", "--stream", "dataloader", "--seed", expected.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var mismatch = await Ctl.Expect(VerificationFailed, daemon.Address, "seeds", "verify", "--experiment", "ctl/seeds", "--worker", "17", "--library", "numpy", "--stream", "dataloader", "--seed", "12345");
        Assert.Contains(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), mismatch, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_list_filters_by_worker_library_stream_and_time()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ctl/events", Root = "5" });
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        foreach (var (worker, library, stream) in new[] { (1u, "torch", ""), (2u, "torch", ""), (2u, "numpy", "augment"), (9u, "torch", ""), (2u, "torch", "") })
        {
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "ctl/events", Worker = worker, Library = library, Stream = stream });
        }

        async Task<List<JsonElement>> Events(params string[] filter)
        {
            var text = await Ctl.Expect(Ok, daemon.Address, ["events", "list", "--experiment", "ctl/events", "--output", "json", .. filter]);
            using var document = JsonDocument.Parse(text);
            return document.RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
        }

        Assert.Equal(5, (await Events()).Count);
        Assert.Equal([2u, 2u, 2u], (await Events("--worker", "2")).Select(e => e.GetProperty("worker").GetUInt32()));
        Assert.Equal(4, (await Events("--worker-min", "1", "--worker-max", "2")).Count);
        Assert.Equal(["augment"], (await Events("--library", "numpy")).Select(e => e.GetProperty("stream").GetString()));
        Assert.Equal(4, (await Events("--stream", "")).Count);
        Assert.Equal(5, (await Events("--since", before.ToString("O"))).Count);
        Assert.Empty(await Events("--until", before.ToString("O")));

        var table = await Ctl.Expect(Ok, daemon.Address, "events", "list", "--experiment", "ctl/events", "--worker", "9");
        Assert.Contains("SEQ", table, StringComparison.Ordinal);
        Assert.Contains("ipv4:127.0.0.1", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_writes_a_manifest_that_verifies_offline_and_in_Python()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ctl/export", Root = "340282366920938463463374607431768211455" });
        using var client = new SeedDaemon.Client.SeedClient(new SeedDaemon.Client.SeedClientOptions { Address = new Uri(daemon.Address), ClientLabels = { ["job"] = "train-1" } });
        for (uint worker = 0; worker < 20; worker++)
        {
            await client.GetBundleAsync("ctl/export", worker, [new("torch"), new("numpy", "dataloader")]);
        }

        await client.GetSeedAsync("ctl/export", 3, "torch");
        using var folder = new TempFolder();
        var manifest = folder.File("manifest.json");
        var exported = await Ctl.Expect(Ok, daemon.Address, "export", "ctl/export", "-o", manifest);
        Assert.Contains("40 seeds, 41 events, done", exported, StringComparison.Ordinal);

        var verified = await Ctl.Expect(Ok, daemon.Address, "verify-manifest", manifest);
        Assert.Contains("yes", verified, StringComparison.Ordinal);

        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(manifest));
        var events = document.RootElement.GetProperty("events");
        Assert.Equal("train-1", events[0].GetProperty("client_labels").GetProperty("job").GetString());
        Assert.Equal(Environment.ProcessId, events[0].GetProperty("client_pid").GetInt64());

        // The canonical bytes as the README defines them, computed in Python, give the same chain.
        using var oracle = JsonDocument.Parse(await Python.RunScriptAsync("manifest_oracle.py", args: [manifest]));
        Assert.Equal(41, oracle.RootElement.GetProperty("events").GetInt32());
        Assert.Equal(document.RootElement.GetProperty("chain_head").GetProperty("hash").GetString(), oracle.RootElement.GetProperty("head").GetString());

        // v2: the tree's root recomputed in Python (RFC 9162 over the documented entries); the signed checkpoint checks with the key.
        Assert.Equal("seedd-manifest-v2", document.RootElement.GetProperty("format").GetString());
        Assert.Equal(document.RootElement.GetProperty("tree").GetProperty("root").GetString(), oracle.RootElement.GetProperty("tree_root").GetString());
        Assert.Contains("not checked (no --key)", verified, StringComparison.Ordinal);
        var keyFile = folder.File("seedd.vkey");
        await File.WriteAllTextAsync(keyFile, await Ctl.Expect(Ok, daemon.Address, "ledger", "key"));
        var signed = await Ctl.Expect(Ok, daemon.Address, "verify-manifest", manifest, "--key", keyFile, "--output", "json");
        Assert.Contains("\"signature\": \"yes\"", signed, StringComparison.Ordinal);
        var forged = folder.File("forged.vkey");
        await File.WriteAllTextAsync(forged, SeedDaemon.Ledger.NoteSigner.Generate((await File.ReadAllTextAsync(keyFile)).Split('+')[0]).VerifierKey);
        Assert.Contains("does not verify with key", await Ctl.Expect(VerificationFailed, daemon.Address, "verify-manifest", manifest, "--key", forged), StringComparison.Ordinal);

        var stdout = await Ctl.Expect(Ok, daemon.Address, "export", "ctl/export", "--quiet");
        using var fromStdout = JsonDocument.Parse(stdout);
        Assert.Equal(40, fromStdout.RootElement.GetProperty("seeds").GetArrayLength());
    }

    [Fact]
    public async Task Env_prints_export_lines_with_the_python_hash_seed()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ctl/env", Root = "31" });
        var lines = await Ctl.Expect(Ok, daemon.Address, "env", "--experiment", "ctl/env", "--worker", "4");
        var expected = SeedSeqV1.Derive(31, 4, "python.hash", "").Seed;

        var shell = await ProcessRunner.RunAsync("bash", ["-c", "eval \"$(cat)\"; echo \"$PYTHONHASHSEED|$SEEDD_EXPERIMENT|$SEEDD_WORKER|$SEEDD_ADDRESS\""], stdin: lines.Split('\n').Where(l => l.StartsWith("export ", StringComparison.Ordinal)).Aggregate("", (a, l) => a + l + "\n"));
        Assert.Equal($"{expected}|ctl/env|4|{daemon.Address.TrimEnd('/')}", shell.Stdout.Trim());
    }

    [Fact]
    public async Task Ledger_verify_and_doctor_report_a_healthy_deployment()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ctl/doctor", Root = "8" });
        await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "ctl/doctor", Worker = 1, Library = "torch" });
        Assert.Contains("yes", await Ctl.Expect(Ok, daemon.Address, "ledger", "verify", "ctl/doctor"), StringComparison.Ordinal);

        var doctor = await Ctl.Expect(Ok, daemon.Address, "doctor", "--experiment", "ctl/doctor", "--output", "json");
        using var document = JsonDocument.Parse(doctor);
        var checks = document.RootElement.EnumerateArray().ToDictionary(c => c.GetProperty("check").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("ok", checks["daemon reachable"]);
        Assert.Equal("ok", checks["scheme"]);
        Assert.Equal("ok", checks["ledger ctl/doctor"]);

        // seedctl as packed and installed carries no libtorch: TorchSharp is "not checked here" in one line, not a failure.
        Assert.Equal("-", checks["TorchSharp loads"]);
        var table = await Ctl.Expect(Ok, daemon.Address, "doctor", "--experiment", "ctl/doctor");
        Assert.Contains("not checked here", table, StringComparison.Ordinal);
        Assert.DoesNotContain("TorchSharp: ", table, StringComparison.Ordinal);
        Assert.True(table.Split('\n').Length < 10, table);

        // Asked for explicitly where libtorch is missing, it is a failure that says how to build it.
        var asked = await Ctl.Expect(1, daemon.Address, "doctor", "--experiment", "ctl/doctor", "--torch");
        Assert.Contains("SeedctlWithLibtorch=true", asked, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Backup_writes_a_copy()
    {
        using var folder = new TempFolder();
        var path = folder.File("copy.db");
        Assert.Contains(path, await Ctl.Expect(Ok, daemon.Address, "backup", path), StringComparison.Ordinal);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task A_failed_export_says_why_in_one_line_and_leaves_no_file_and_an_unreadable_manifest_is_named()
    {
        const int Failed = 1;
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ctl/export-fail", Root = "6" });
        using var folder = new TempFolder();

        var nowhere = folder.File("no-such-dir/m.json");
        var output = await Ctl.Expect(Failed, daemon.Address, "export", "ctl/export-fail", "-o", nowhere);
        Assert.Contains($"seedctl: cannot write {nowhere} (", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);

        var manifest = folder.File("m.json");
        await Ctl.Expect(NotFound, daemon.Address, "export", "ctl/none", "-o", manifest);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));

        Assert.Contains($"seedctl: cannot read {folder.Path}: it is a directory", await Ctl.Expect(Usage, daemon.Address, "verify-manifest", folder.Path), StringComparison.Ordinal);
        Assert.Contains($"seedctl: cannot read {manifest}: it does not exist", await Ctl.Expect(Usage, daemon.Address, "verify-manifest", manifest), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_errors_and_an_unreachable_daemon_have_their_own_exit_codes()
    {
        Assert.Contains("required", await Ctl.Expect(Usage, daemon.Address, "seeds", "get", "--experiment", "x"), StringComparison.Ordinal);
        Assert.Contains("seedctl --help", await Ctl.Expect(Usage, daemon.Address, "no-such-verb"), StringComparison.Ordinal);

        using var refusing = Ports.Refusing();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Contains($"cannot reach seedd at {refusing.Url}: Error connecting to subchannel. (Connection refused)", await Ctl.Expect(Unavailable, refusing.Url, "experiments", "list"), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"seedctl took {clock.Elapsed} to give up on an address nothing listens on; it must fail fast");

        var help = await Ctl.RunAsync("--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var verb in new[] { "experiments", "seeds", "events", "export", "verify-manifest", "env", "doctor" })
        {
            Assert.Contains(verb, help.Stdout, StringComparison.Ordinal);
        }
    }

    /// <summary>System.CommandLine named .NET types: "expected type 'System.Nullable`1[System.DateTimeOffset]'".</summary>
    [Theory]
    [InlineData("--since: 'yesterday' is not a time in ISO 8601", "events", "list", "--experiment", "ctl/x", "--since", "yesterday")]
    [InlineData("--worker: 'seventeen' is not a whole number from 0 to 4294967295.", "seeds", "verify", "--experiment", "ctl/x", "--worker", "seventeen", "--library", "torch", "--seed", "1")]
    [InlineData("--seed: '-1' is not a whole number from 0 to 18446744073709551615.", "seeds", "verify", "--experiment", "ctl/x", "--worker", "1", "--library", "torch", "--seed", "-1")]
    [InlineData("--from-step: 'abc' is not a whole number.", "runs", "diff", "ctl/x", "a", "b", "--from-step", "abc")]
    [InlineData("--size: 'all' is not a whole number.", "ledger", "checkpoint", "ctl/x", "--size", "all")]
    [InlineData("--worker is one worker (both ends of the range): give it, or --worker-min and --worker-max, not both.", "seeds", "list", "--experiment", "ctl/x", "--worker", "17", "--worker-min", "1")]
    [InlineData("--limit is a number of events, 0 for all; it is -1.", "events", "list", "--experiment", "ctl/x", "--limit", "-1")]
    public async Task A_value_of_the_wrong_kind_is_named_with_what_the_option_takes(string expected, params string[] args)
    {
        var result = await Ctl.RunAsync([.. args, "--address", daemon.Address]);
        Assert.Equal(Usage, result.ExitCode);
        Assert.Contains($"seedctl: {expected}", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Seeds_show_and_filtered_list_only_read()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "ctl/read-only", Root = "77" });
        await Ctl.Expect(Ok, daemon.Address, "seeds", "get", "--experiment", "ctl/read-only", "--worker", "17", "--library", "torch");
        await Ctl.Expect(Ok, daemon.Address, "seeds", "get", "--experiment", "ctl/read-only", "--worker", "18", "--library", "torch");

        var shown = await Ctl.Expect(Ok, daemon.Address, "seeds", "show", "--experiment", "ctl/read-only", "--worker", "17", "--library", "torch");
        Assert.Matches($@"(?m)^17\s+torch\s+{SeedSeqV1.Derive(77, 17, "torch", "").Seed}\s+64\s+1\s", shown);
        var listed = await Ctl.Expect(Ok, daemon.Address, "seeds", "list", "--experiment", "ctl/read-only", "--worker", "17");
        Assert.Contains("17 ", listed, StringComparison.Ordinal);
        Assert.DoesNotContain("18 ", listed, StringComparison.Ordinal);
        var never = await Ctl.RunAsync("seeds", "show", "--experiment", "ctl/read-only", "--worker", "19", "--library", "torch", "--address", daemon.Address);
        Assert.Equal(NotFound, never.ExitCode);
        Assert.Contains("was never issued", never.Stderr, StringComparison.Ordinal);

        // Looking recorded nothing: two events, each key issued once.
        Assert.Equal(2, (await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = "ctl/read-only" })).Events.Count);
        await Ctl.Expect(Ok, daemon.Address, "seeds", "show", "--experiment", "ctl/read-only", "--worker", "17", "--library", "torch");
        Assert.Equal(2, (await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = "ctl/read-only" })).Events.Count);
    }
}
