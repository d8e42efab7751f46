using SeedDaemon.V1;

namespace SeedDaemon.Tests.Replicated;

/// <summary>What must hold after replicas answered concurrently, whatever happened to them.</summary>
internal static class ReplicatedLedger
{
    /// <summary>
    /// Every acknowledged seed is stored, with one first issue (every answer of a key named the same
    /// first issue time and requester as the record), a count at least its answers, and one gap-free
    /// chain that verifies with exactly one event per counted issue.
    /// </summary>
    public static async Task VerifyAsync(string address, string experiment, ReplicatedLoad load)
    {
        using var channel = TestChannels.Create(address, maxReceiveMessageSize: 64 << 20);
        var audit = new AuditService.AuditServiceClient(channel);

        // Calls the load cancelled may still commit on the replicas (a commit is never answered without
        // its record, but it goes on): the records are read once they and the log agree, that is once
        // every counted issue has its place (the sequencer places them after they are durable; after a
        // sequencer died, once another replica took its lease over).
        Dictionary<uint, IssuedSeed> stored = [];
        var issues = 0ul;
        ulong? placed = null;
        try
        {
            await Poll.ForAsync(async () =>
            {
                stored = (await audit.IssuedSeedsAsync(experiment)).ToDictionary(s => s.Worker);
                issues = stored.Values.Aggregate(0ul, (sum, s) => sum + s.IssueCount);
                return (placed = await LogSizeAsync(audit, experiment)) == issues;
            }, TimeSpan.FromSeconds(30), $"the log of '{experiment}' to hold every counted issue");
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"waited 30 s for the log of '{experiment}' to hold every counted issue ({issues}); it held {placed?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"}");
        }

        foreach (var (worker, answers) in load.Acknowledged)
        {
            Assert.True(stored.TryGetValue(worker, out var record), $"the acknowledged seed of worker {worker} is not stored");
            Assert.All(answers, a =>
            {
                Assert.Equal(record.Seed64, a.Seed64);
                Assert.Equal(record.FirstIssueTime, a.FirstIssueTime);
                Assert.Equal(record.FirstRequester, a.FirstRequester);
            });
            Assert.True(record.IssueCount >= (ulong)answers.Count, $"worker {worker}: {answers.Count} answers but an issue count of {record.IssueCount}");
            // Every request was counted once: no two answers of a key carry the same count.
            Assert.Equal(answers.Count, answers.Select(a => a.IssueCount).Distinct().Count());
        }

        var verified = await audit.VerifyLedgerAsync(new VerifyLedgerRequest { ExperimentId = experiment }, deadline: DateTime.UtcNow.AddMinutes(2));
        Assert.True(verified.Ok, $"the chain does not verify: {verified.Reason}");
        Assert.Equal(issues, verified.EventsChecked);

        // The tree over the same events: its signed checkpoint covers every event and verifies with the
        // replicas' shared key, and a proof of an acknowledged seed leads to it.
        using var sdk = new SeedDaemon.Client.SeedClient(channel, new SeedDaemon.Client.SeedClientOptions { LedgerKey = TestLedgerKey.VerifierKey });
        var checkpoint = await sdk.GetCheckpointAsync(experiment);
        Assert.Equal((long)verified.EventsChecked, checkpoint.Size);
        var proved = load.Acknowledged.Keys.First();
        Assert.Equal(proved, (await sdk.ProveSeedAsync(experiment, proved, stored[proved].Library, stored[proved].Stream)).Event().Worker);
    }

    /// <summary>Until a checkpoint covers <paramref name="entries"/> entries (a log still empty with entries waiting answers UNAVAILABLE meanwhile).</summary>
    public static async Task WaitForLogAsync(AuditService.AuditServiceClient audit, string experiment, ulong entries)
    {
        ulong? seen = null;
        try
        {
            await Poll.ForAsync(async () => (seen = await LogSizeAsync(audit, experiment)) == entries, TimeSpan.FromSeconds(30), $"the log of '{experiment}' to hold all {entries} issues");
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"waited 30 s for the log of '{experiment}' to hold all {entries} issues; it held {(seen is { } size ? $"{size} entries" : "nothing")}");
        }
    }

    /// <summary>The size of the experiment's log as a checkpoint states it; null while it is empty with entries waiting.</summary>
    private static async Task<ulong?> LogSizeAsync(AuditService.AuditServiceClient audit, string experiment)
    {
        try
        {
            return (ulong)(await audit.GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = experiment })).TreeSize;
        }
        catch (Grpc.Core.RpcException error) when (error.StatusCode == Grpc.Core.StatusCode.Unavailable && error.Status.Detail.Contains("not yet integrated", StringComparison.Ordinal))
        {
            return null;
        }
    }
}
