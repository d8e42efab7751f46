using System.Net;
using System.Net.Http.Json;
using Google.Protobuf;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Conformance;

/// <summary>REST (gRPC JSON transcoding over HTTP/1.1) answers what gRPC answers.</summary>
public abstract class RestTests<TDaemon>(TDaemon daemon) : IClassFixture<TDaemon>
    where TDaemon : ConformanceDaemon
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    [Fact]
    public async Task A_seed_over_REST_is_the_seed_over_gRPC()
    {
        using var http = new HttpClient { BaseAddress = new Uri(daemon.RestAddress) };
        var created = await http.PostAsJsonAsync("/v1/experiments", new { experimentId = "rest/run-1", root = "42" });
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);

        var text = await http.GetStringAsync("/v1/seed?experiment_id=rest/run-1&worker=3&library=torch&stream=dataloader");
        Assert.Contains("\"seed64\":\"", text, StringComparison.Ordinal);
        var rest = Parser.Parse<IssuedSeed>(text);
        var grpc = await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "rest/run-1", Worker = 3, Library = "torch", Stream = "dataloader" });
        Assert.Equal(rest.IssueCount + 1, grpc.IssueCount);
        grpc.IssueCount = rest.IssueCount;
        Assert.Equal(grpc, rest);

        var experiment = Parser.Parse<Experiment>(await http.GetStringAsync("/v1/experiments/rest/run-1"));
        Assert.Equal(await daemon.Seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "rest/run-1" }), experiment);

        var listed = Parser.Parse<ListIssuedSeedsResponse>(await http.GetStringAsync("/v1/audit/seeds?experiment_id=rest/run-1"));
        Assert.Equal((await daemon.Audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = "rest/run-1" })).Seeds, listed.Seeds);

        var events = Parser.Parse<ListEventsResponse>(await http.GetStringAsync("/v1/audit/events?experiment_id=rest/run-1&worker_min=3&worker_max=3"));
        Assert.Equal(2, events.Events.Count);
    }

    [Fact]
    public async Task The_transparency_log_over_REST_is_the_log_over_gRPC_and_its_proofs_verify()
    {
        using var http = new HttpClient { BaseAddress = new Uri(daemon.RestAddress) };
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "rest/tlog", Root = "8" });
        foreach (var worker in new uint[] { 1, 2, 3 })
        {
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "rest/tlog", Worker = worker, Library = "torch" });
        }

        var key = Parser.Parse<LedgerKey>(await http.GetStringAsync("/v1/audit/ledger:key"));
        Assert.Equal(await daemon.Audit.GetLedgerKeyAsync(new GetLedgerKeyRequest()), key);
        var checkpoint = Parser.Parse<SignedCheckpoint>(await http.GetStringAsync("/v1/audit/ledger:checkpoint?experiment_id=rest/tlog"));
        Assert.Equal(await daemon.Audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = "rest/tlog" }), checkpoint);
        var proof = Parser.Parse<InclusionProof>(await http.GetStringAsync("/v1/audit/ledger:proveInclusion?experiment_id=rest/tlog&key.worker=2&key.library=torch"));
        Assert.Equal(1, proof.LeafIndex);
        Assert.Equal(3, SeedDaemon.Client.Proofs.ProofBundle.FromProto(proof).Verify(key.VerifierKey).Size);
        var consistency = Parser.Parse<ConsistencyProof>(await http.GetStringAsync("/v1/audit/ledger:proveConsistency?experiment_id=rest/tlog&old_size=1"));
        Assert.Equal(await daemon.Audit.ProveConsistencyAsync(new ProveConsistencyRequest { ExperimentId = "rest/tlog", OldSize = 1 }), consistency);

        var past = await http.GetAsync("/v1/audit/ledger:checkpoint?experiment_id=rest/tlog&tree_size=9");
        Assert.Equal(HttpStatusCode.BadRequest, past.StatusCode);
        Assert.Contains("tree_size 9 is larger than the log of 'rest/tlog', which holds 3 entries", await past.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_id_with_slashes_is_found_as_it_is_and_percent_encoded()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "team/project/run-17", Root = "17" });
        using var http = new HttpClient { BaseAddress = new Uri(daemon.RestAddress) };
        foreach (var path in new[] { "/v1/experiments/team/project/run-17", "/v1/experiments/team%2Fproject%2Frun-17", "/v1/experiments/team%2fproject/run-17" })
        {
            var answer = await http.GetAsync(path);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{path}: {answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
            Assert.Equal("team/project/run-17", Parser.Parse<Experiment>(await answer.Content.ReadAsStringAsync()).ExperimentId);
        }

        var seed = Parser.Parse<IssuedSeed>(await http.GetStringAsync("/v1/seed?experiment_id=team%2Fproject%2Frun-17&worker=1&library=torch"));
        Assert.Equal("team/project/run-17", seed.ExperimentId);
    }

    [Fact]
    public async Task Seedctl_pointed_at_the_REST_port_says_it_does_not_speak_gRPC_and_exits_as_unreachable()
    {
        var result = await Seedctl.RunAsync("experiments", "list", "--address", daemon.RestAddress);
        Assert.True(result.ExitCode == 3, $"seedctl exited {result.ExitCode}\n{result.Stderr}");
        Assert.Contains("does not speak gRPC", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("Is it seedd's REST port (--http-listen)?", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("seedd answered Internal", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task REST_errors_carry_the_status_and_the_field()
    {
        using var http = new HttpClient { BaseAddress = new Uri(daemon.RestAddress) };
        var bad = await http.GetAsync("/v1/seed?experiment_id=rest/x&worker=1&library=Bad");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var body = await bad.Content.ReadAsStringAsync();
        Assert.Contains("\"field\":\"library\"", body, StringComparison.Ordinal);

        var missing = await http.GetAsync("/v1/seed?experiment_id=rest/none&worker=1&library=torch");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Well_formed_query_parameters_and_fields_of_every_kind_still_pass()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "rest/kinds", Root = "5" });
        using var http = new HttpClient { BaseAddress = new Uri(daemon.RestAddress) };
        foreach (var path in new[]
        {
            "/v1/audit/events?experiment_id=rest/kinds&worker_min=1&worker_max=2&library=torch&start_time=2026-01-01T00:00:00Z&page_size=10",
            "/v1/audit/events?experimentId=rest/kinds&workerMin=1",
            "/v1/seed?experiment_id=rest/kinds&worker=4294967294&library=torch",
        })
        {
            var answer = await http.GetAsync(path);
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{path}: {answer.StatusCode} {await answer.Content.ReadAsStringAsync()}");
        }

        // A body with a UTF-8 byte order mark is JSON too.
        var bom = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes("""{"experimentId": "rest/kinds-bom", "root": "3"}""")]);
        bom.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var created = await http.PostAsync("/v1/experiments", bom);
        Assert.True(created.StatusCode == HttpStatusCode.OK, await created.Content.ReadAsStringAsync());

        var batch = await http.PostAsync("/v1/seeds:batchGet", new StringContent("""{"requests": [{"experiment_id": "rest/kinds", "worker": 2, "library": "numpy"}]}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(batch.StatusCode == HttpStatusCode.OK, await batch.Content.ReadAsStringAsync());
    }

    /// <summary>The transcoder ignores names it does not know; a filter misspelled was answered as no filter at all.</summary>
    [Theory]
    [InlineData("GET", "/v1/audit/events?experiment_id=rest/strict&worker=18", "worker", "unknown query parameter 'worker': ListEventsRequest takes experiment_id, worker_min, worker_max")]
    [InlineData("GET", "/v1/seed?experiment_id=rest/strict&worker=-3&library=torch", "worker", "query parameter 'worker': '-3' is not a whole number from 0 to 4294967295.")]
    [InlineData("GET", "/v1/audit/seeds?experiment_id=rest/strict&page_size=ten", "page_size", "query parameter 'page_size': 'ten' is not a whole number from -2147483648 to 2147483647.")]
    [InlineData("POST", "/v1/experiments {\"experimentId\": \"rest/strict2\", \"root\": 17}", "root", "field 'root' must be a JSON string, not the number 17.")]
    [InlineData("POST", "/v1/experiments {\"experimentId\": \"rest/strict2\", \"rot\": \"17\"}", "rot", "unknown field 'rot': CreateExperimentRequest has experiment_id, root, labels.")]
    [InlineData("POST", "/v1/experiments {\"experimentId\": \"rest/strict2\", \"labels\": {\"a\": 1}}", "labels.a", "field 'labels.a' must be a JSON string, not the number 1.")]
    [InlineData("POST", "/v1/seeds:batchGet {\"requests\": [{\"experimentId\": \"rest/strict\", \"worker\": 1, \"libary\": \"torch\"}]}", "requests[0].libary", "unknown field 'requests[0].libary'")]
    [InlineData("POST", "/v1/experiments {\"experimentId\": ", "body", "the request body is not JSON")]
    [InlineData("POST", "/v1/experiments?root=5 {\"experimentId\": \"rest/strict2\"}", "root", "CreateExperimentRequest takes its fields in the JSON body, not in the query string.")]
    [InlineData("GET", "/v1/experiments/rest/strict?experiment_id=rest/other", "experiment_id", "experiment_id is already in the path")]
    public async Task Unknown_names_and_wrong_types_are_400_naming_them_and_change_nothing(string method, string request, string field, string message)
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "rest/strict", Root = "5" });
        var before = await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = "rest/strict" });
        using var http = new HttpClient { BaseAddress = new Uri(daemon.RestAddress) };
        var space = request.IndexOf(' ', StringComparison.Ordinal);
        using var answer = method == "GET"
            ? await http.GetAsync(request)
            : await http.PostAsync(request[..space], new StringContent(request[(space + 1)..], System.Text.Encoding.UTF8, "application/json"));
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.BadRequest, $"{answer.StatusCode}: {body}");
        using var status = System.Text.Json.JsonDocument.Parse(body);
        Assert.Equal((int)Grpc.Core.StatusCode.InvalidArgument, status.RootElement.GetProperty("code").GetInt32());
        Assert.Contains(message, status.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(field, status.RootElement.GetProperty("details")[0].GetProperty("fieldViolations")[0].GetProperty("field").GetString());

        Assert.Equal(before.Events, (await daemon.Audit.ListEventsAsync(new ListEventsRequest { ExperimentId = "rest/strict" })).Events);
        await RpcAssert.FailsWith(Grpc.Core.StatusCode.NotFound, async () => await daemon.Seeds.GetExperimentAsync(new GetExperimentRequest { ExperimentId = "rest/strict2" }));
    }

    /// <summary>REST answered a stream of parts; an auditor wants the document seedctl export writes.</summary>
    [Fact]
    public async Task REST_serves_the_manifest_document_seedctl_export_writes()
    {
        await daemon.Seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "rest/manifest", Root = "77", Labels = { ["team"] = "vision" } });
        for (uint worker = 0; worker < 5; worker++)
        {
            await daemon.Seeds.GetSeedAsync(new GetSeedRequest { ExperimentId = "rest/manifest", Worker = worker, Library = "torch" });
        }

        await SampleRuns.RecordAsync(daemon.Channel, "rest/manifest");
        using var http = new HttpClient { BaseAddress = new Uri(daemon.RestAddress) };
        using var answer = await http.GetAsync("/v1/audit/manifest?experiment_id=rest/manifest");
        var rest = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{answer.StatusCode}: {rest}");
        Assert.Equal("application/json", answer.Content.Headers.ContentType?.MediaType);

        var exported = await Seedctl.RunAsync("export", "rest/manifest", "--quiet", "--address", daemon.Address);
        Assert.True(exported.ExitCode == 0, exported.Stderr);
        static string WithoutExportTime(string manifest) => System.Text.RegularExpressions.Regex.Replace(manifest, "\"exported_at\": \"[^\"]+\"", "\"exported_at\": \"\"");
        Assert.Equal(WithoutExportTime(exported.Stdout.TrimEnd()), WithoutExportTime(rest.TrimEnd()));
        Assert.Contains("\"format\": \"seedd-manifest-v2\"", rest, StringComparison.Ordinal);
        using (var document = System.Text.Json.JsonDocument.Parse(rest))
        {
            // The runs come with the experiment: every process, every fingerprint kept (the conflicting report is not one).
            var runs = document.RootElement.GetProperty("runs").EnumerateArray().ToList();
            Assert.Equal(SampleRuns.Processes, runs.Count);
            Assert.Equal(1, runs.Single(r => r.GetProperty("run_id").GetString() == "first" && r.GetProperty("worker").GetInt32() == 1).GetProperty("conflict_count").GetInt32());
            Assert.Equal("first", runs.Single(r => r.GetProperty("run_id").GetString() == "resumed").GetProperty("resumed_from").GetProperty("run_id").GetString());
            var fingerprints = document.RootElement.GetProperty("fingerprints").EnumerateArray().ToList();
            Assert.Equal(SampleRuns.Fingerprints, fingerprints.Count);
            Assert.Equal("0101", fingerprints.Single(f => f.GetProperty("run_id").GetString() == "first" && f.GetProperty("worker").GetInt32() == 1 && f.GetProperty("step").GetInt32() == 1)
                .GetProperty("digests")[0].GetProperty("value").GetString());
        }

        using var folder = new TempFolder();
        var file = folder.File("rest.manifest.json");
        await File.WriteAllTextAsync(file, rest);
        var verified = await Seedctl.RunAsync("verify-manifest", file);
        Assert.True(verified.ExitCode == 0, verified.Stdout + verified.Stderr);

        foreach (var (path, code, text) in new[]
        {
            ("/v1/audit/manifest?experiment_id=rest/manifest&worker=3", HttpStatusCode.BadRequest, "unknown query parameter 'worker'"),
            ("/v1/audit/manifest", HttpStatusCode.BadRequest, "experiment_id"),
            ("/v1/audit/manifest?experiment_id=rest/none", HttpStatusCode.NotFound, "Experiment 'rest/none' does not exist"),
        })
        {
            using var refused = await http.GetAsync(path);
            var body = await refused.Content.ReadAsStringAsync();
            Assert.True(refused.StatusCode == code, $"{path}: {refused.StatusCode} {body}");
            using var status = System.Text.Json.JsonDocument.Parse(body);
            Assert.Contains(text, status.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }
}
