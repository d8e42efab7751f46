using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using SeedDaemon.Derivation;
using SeedDaemon.V1;
using Ctl = SeedDaemon.Testing.Seedctl;

namespace SeedDaemon.Tests.Audit;

/// <summary>
/// The store check finds what reads alone would serve late or never: a damaged ledger page that no
/// start reads (the embedded store serves its keys from memory meanwhile), found by `seedctl store
/// check` and by the background check (log, /metrics); rows changed behind a replica's back in PostgreSQL.
/// </summary>
public sealed partial class StoreCheckTests
{
    private const string Experiment = "check/damaged";

    [Fact]
    public async Task A_damaged_ledger_page_no_start_reads_is_found_by_seedctl_and_the_background_check_while_seedd_serves()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            using var channel = TestChannels.Create(seedd.Address);
            var seeds = new SeedService.SeedServiceClient(channel);
            await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = Experiment, Root = "77" });
            for (var first = 0; first < 20_000; first += 1000)
            {
                var batch = new BatchGetSeedsRequest();
                batch.Requests.AddRange(Enumerable.Range(first, 1000).Select(w => new GetSeedRequest { ExperimentId = Experiment, Worker = (uint)w, Library = "torch" }));
                await seeds.BatchGetSeedsAsync(batch);
            }

            Assert.Equal(0, await seedd.StopAsync());
        }

        // A bit flips in the seed of one event of the ledger's middle (worker u32 then seed64, as the
        // ledger document packs them); the clean stop left no ledger tail, so no start reads it.
        var bytes = await File.ReadAllBytesAsync(db);
        var (worker, at) = Enumerable.Range(9000, 2000).Select(w => ((uint)w, LedgerSlot(bytes, (uint)w))).First(found => found.Item2 >= 0);
        bytes[at + 4 + 3] ^= 0x10;
        await File.WriteAllBytesAsync(db, bytes);

        await using (var seedd = await SeeddProcess.StartAsync(new Dictionary<string, string?> { ["Seedd__Scrub__IntervalSeconds"] = "1", ["Seedd__Scrub__DutyPercent"] = "50" }, "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--db", db))
        {
            // Serving on: the key's seed comes from the checkpoint, which is whole.
            using var channel = TestChannels.Create(seedd.Address);
            var answer = await new SeedService.SeedServiceClient(channel).GetSeedAsync(new GetSeedRequest { ExperimentId = Experiment, Worker = worker, Library = "torch" });
            Assert.Equal(SeedSeqV1.Derive(77, worker, "torch", "").Seed64, answer.Seed64);

            using var http = new HttpClient { BaseAddress = new Uri(HttpListener().Match(seedd.Output).Groups[1].Value) };
            var metrics = "";
            for (var wait = 0; wait < 100 && Sample(metrics, "seedd_scrub_completed_total") < 1; wait++)
            {
                await Task.Delay(200);
                metrics = await http.GetStringAsync("/metrics");
            }

            Assert.True(Sample(metrics, "seedd_scrub_completed_total") >= 1, "no background check completed within 20 s:\n" + seedd.Output);
            Assert.True(Sample(metrics, "seedd_scrub_last_findings") >= 1, metrics);
            Assert.Contains($"Store check finding: experiment '{Experiment}'", seedd.Output, StringComparison.Ordinal);
            Assert.Contains("does not match its checksum", seedd.Output, StringComparison.Ordinal);
            Assert.Equal(0, await seedd.StopAsync());
        }

        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            var output = await Ctl.Expect(5, seedd.Address, "store", "check", "--duty", "100");
            Assert.Contains("FINDINGS:", output, StringComparison.Ordinal);
            Assert.Contains($"collection \"events\", document '{Experiment}|", output, StringComparison.Ordinal);
            Assert.Contains(Experiment, output, StringComparison.Ordinal);
            var listing = await Ctl.Expect(1, seedd.Address, "events", "list", "--experiment", Experiment, "--limit", "0");
            Assert.Contains("DataLoss", listing, StringComparison.Ordinal);
            Assert.Contains($"The seed database is damaged where seedd read the ledger of '{Experiment}'", listing, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Rows_changed_behind_a_replicas_back_in_PostgreSQL_are_found_and_named()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync();
        await using var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--postgres", cluster.ConnectionString(database));
        using var channel = TestChannels.Create(seedd.Address);
        var seeds = new SeedService.SeedServiceClient(channel);
        await seeds.CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "check/pg", Root = "8" });
        var batch = new BatchGetSeedsRequest();
        batch.Requests.AddRange(Enumerable.Range(0, 50).Select(w => new GetSeedRequest { ExperimentId = "check/pg", Worker = (uint)w, Library = "torch" }));
        await seeds.BatchGetSeedsAsync(batch);
        var clean = System.Text.Json.Nodes.JsonNode.Parse(await Ctl.Expect(0, seedd.Address, "store", "check", "--quiet", "--output", "json"))!;
        Assert.True(clean["ok"]!.GetValue<bool>());
        Assert.Empty(clean["findings"]!.AsArray());
        Assert.Equal(50, clean["read"]!["seeds"]!.GetValue<long>());

        await cluster.ExecuteAsync(database, "UPDATE seedd_issued_seeds SET issue_count = 3 WHERE experiment_id = 'check/pg' AND worker = 7");
        await cluster.ExecuteAsync(database, "UPDATE seedd_ledger_events SET seed64 = seed64 + 1 WHERE experiment_id = 'check/pg' AND sequence = 20");
        var output = await Ctl.Expect(5, seedd.Address, "store", "check", "--experiment", "check/pg");
        Assert.Contains("key (worker 7, library 'torch', stream '')", output, StringComparison.Ordinal);
        Assert.Contains("1 times", output, StringComparison.Ordinal);
        Assert.Contains("event 20", output, StringComparison.Ordinal);
        Assert.Contains("the event was altered", output, StringComparison.Ordinal);
    }

    /// <summary>Where the ledger packs (worker, seed64) for this key, or -1 (the slot may straddle a page boundary).</summary>
    private static int LedgerSlot(byte[] file, uint worker)
    {
        var pattern = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(pattern, worker);
        BinaryPrimitives.WriteUInt64LittleEndian(pattern.AsSpan(4), SeedSeqV1.Derive(77, worker, "torch", "").Seed64);
        return file.AsSpan().IndexOf(pattern);
    }

    private static double Sample(string metrics, string name) =>
        metrics.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal)) is { } line ? double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture) : -1;

    [GeneratedRegex(@"(http://[^ ]+) \(HTTP/1\.1")]
    private static partial Regex HttpListener();
}
