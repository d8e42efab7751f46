using Google.Protobuf;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Replicated;

/// <summary>
/// A process's record and its first report on two replicas at the same moment: replicas no longer
/// lock the experiment's row, so the process's own row decides (a new one is inserted without ON
/// CONFLICT: the replica that lost the race plans again on the winner's row). Neither is lost.
/// </summary>
public sealed class ReplicaRunsTests
{
    [Fact]
    public async Task A_record_and_a_report_of_one_new_process_on_two_replicas_at_once_both_stay()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var database = await cluster.CreateDatabaseAsync("runs");
        await using var replicas = await Replicas.StartAsync(cluster.ConnectionString(database), 2);
        using var first = TestChannels.Create(replicas.Processes[0].Address);
        using var second = TestChannels.Create(replicas.Processes[1].Address);
        await new SeedService.SeedServiceClient(first).CreateExperimentAsync(new CreateExperimentRequest { ExperimentId = "replicas/runs", Root = "41" });

        // The moment is held open: the test locks the fingerprints table, so replica 1's report stops after
        // inserting the new process's row; replica 0's record of the same process, which also found no row,
        // then waits on that row. When the test lets go, both transactions thought the process new.
        Task<ReportFingerprintsResponse> report;
        Task<RunProcess> record;
        await using (var hold = await HeldLock.TakeAsync(cluster, database, "LOCK TABLE seedd_fingerprints IN SHARE MODE"))
        {
            report = new RunService.RunServiceClient(second).ReportFingerprintsAsync(Report(7), deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync;
            await Poll.ForAsync(async () => await cluster.SeeddWaitingOnLocksAsync(database) == 1, TimeSpan.FromSeconds(30), "the report to wait on the test's lock");
            record = new RunService.RunServiceClient(first).RecordProcessAsync(
                new RecordProcessRequest { ExperimentId = "replicas/runs", RunId = "r", Worker = 7, Environment = { ["host"] = "node-7" } }, deadline: DateTime.UtcNow.AddSeconds(60)).ResponseAsync;
            await Poll.ForAsync(async () => await cluster.SeeddWaitingOnLocksAsync(database) == 2, TimeSpan.FromSeconds(30), "the record to wait on the report's new row");
            await hold.ReleaseAsync();
        }

        Assert.Equal(3, (await report).Recorded);
        await record;
        var run = await new RunService.RunServiceClient(first).GetRunAsync(new GetRunRequest { ExperimentId = "replicas/runs", RunId = "r" });
        var process = Assert.Single(run.Processes);
        Assert.Equal("node-7", process.Environment.GetValueOrDefault("host"));
        Assert.Equal(3, process.Steps);
        Assert.Equal(2, process.LastStep);
    }

    private static ReportFingerprintsRequest Report(uint worker)
    {
        var request = new ReportFingerprintsRequest { ExperimentId = "replicas/runs", RunId = "r", Worker = worker };
        request.Steps.AddRange(Enumerable.Range(0, 3).Select(s => new StepFingerprint
        {
            Step = s,
            Digests = { new Digest { Name = "rng.torch.cpu", Kind = DigestKind.Generator, Value = ByteString.CopyFrom((byte)s, 2, 3) } },
        }));
        return request;
    }
}
