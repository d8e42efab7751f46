extern alias daemon;

using System.Globalization;
using System.Text;
using daemon::SeedDaemon.Daemon;
using daemon::SeedDaemon.Daemon.Recording;
using daemon::SeedDaemon.Daemon.Storage.LiteDb;
using SeedDaemon.Derivation;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// Builds real database folders and reads back everything a store answers (experiments, every issued
/// seed with its first issue and count, every ledger event, every run's processes and fingerprints), a
/// page at a time, so that a damaged copy's answers can be held against the answers taken before the
/// damage: each page must be the same, or DATA_LOSS. Anything else (another answer, another error) is
/// what the damage sweeps look for.
/// </summary>
internal static class DamageOracle
{
    public const string DataLoss = "DATA_LOSS";
    private const int Page = 1000;

    /// <summary>What a folder's store answered, a line per page ("unit"), or why it refused to open.</summary>
    public sealed record Answers(IReadOnlyDictionary<string, string> Units, string? DataLossMessage);

    /// <summary>
    /// Experiments with keys issued in batches (some issued again), a frozen one, and a run whose
    /// processes reported fingerprints. <paramref name="keys"/> keys go to the first experiment, in batches of 1,000.
    /// </summary>
    public static async Task FillAsync(SeedStore store, int keys, int smallExperiments, int processes, int steps)
    {
        const string big = "sweep/big";
        await Create(store, big, 42);
        for (var first = 0; first < keys; first += Page)
        {
            var count = Math.Min(Page, keys - first);
            await store.RecordIssuesAsync([.. Enumerable.Range(first, count).Select(w => Issue(big, 42, (uint)w, w % 3 == 0 ? "numpy" : "torch", w % 7 == 0 ? "dataloader" : ""))], Origin(first), default);
        }

        // Issued again: counts above one, events whose key was first issued long before.
        await store.RecordIssuesAsync([.. Enumerable.Range(0, Math.Min(keys, 500)).Select(w => Issue(big, 42, (uint)(w * 7 % keys), (w * 7 % keys) % 3 == 0 ? "numpy" : "torch", (w * 7 % keys) % 7 == 0 ? "dataloader" : ""))], Origin(-1), default);

        for (var e = 0; e < smallExperiments; e++)
        {
            var id = $"sweep/small-{e:D3}";
            await Create(store, id, (ulong)e + 1);
            await store.RecordIssuesAsync([.. Enumerable.Range(0, 1 + (e % 50)).Select(w => Issue(id, (ulong)e + 1, (uint)w, "python", ""))], Origin(e), default);
        }

        if (smallExperiments > 0)
        {
            await store.FreezeExperimentAsync("sweep/small-000", default);
        }

        for (var p = 0; p < processes; p++)
        {
            var key = new ProcessKey(big, "run-1", (uint)p);
            await store.RecordProcessAsync(ProcessRecord.New(key, new Dictionary<string, string> { ["host"] = $"node-{p / 8}", ["torch"] = "1.13.1" }, null, 1_700_000_000_000), default);
            var reported = Enumerable.Range(1, steps).Select(s => new StepFingerprint(s * 10, [
                new Digest("rng.torch.cpu", DigestKind.Generator, Bytes(p, s, 16)),
                new Digest("loss", DigestKind.Scalar, Bytes(s, 0, 8)),
                new Digest("model", DigestKind.Tensor, Bytes(p * 31, s, 32)),
            ])).ToList();
            await store.ReportFingerprintsAsync(key, reported, 1_700_000_000_000, default);
        }
    }

    /// <summary>One more commit: the first <paramref name="keys"/> keys of the big experiment issued again.</summary>
    public static async Task IssueAgainAsync(SeedStore store, int keys) =>
        await store.RecordIssuesAsync([.. Enumerable.Range(0, keys).Select(w => Issue("sweep/big", 42, (uint)w, w % 3 == 0 ? "numpy" : "torch", w % 7 == 0 ? "dataloader" : ""))], Origin(-2), default);

    /// <summary>Opens the store in <paramref name="folder"/> and reads every answer; a refused open is reported as its message (null answers).</summary>
    public static async Task<(Answers? Answers, StoreOpenException? Refused)> ReadFolderAsync(string folder)
    {
        SeedStore store;
        try
        {
            store = EmbeddedStore.Open(Path.Combine(folder, "seeds.db"), maxBatch: 16, checkpoints: NoCheckpoints);
        }
        catch (StoreOpenException refused)
        {
            return (null, refused);
        }

        try
        {
            return (await ReadAsync(store.Reader), null);
        }
        finally
        {
            try
            {
                store.Dispose();
            }
            catch (Exception)
            {
                // A served file with damage may fail its closing checkpoint; what it answered is what is checked.
            }
        }
    }

    /// <summary>Checkpoints that never run by themselves: a copy taken while the store is open is what a kill -9 leaves.</summary>
    public static LiteDbCheckpoints NoCheckpoints { get; } = new()
    {
        IdleEvents = long.MaxValue,
        IdleInterval = TimeSpan.MaxValue,
        HardEvents = long.MaxValue,
        IdleLogBytes = long.MaxValue,
        HardLogBytes = long.MaxValue,
    };

    /// <summary>Every answer, a unit per page; a page that fails with DATA_LOSS is that unit's answer (any other error escapes).</summary>
    public static async Task<Answers> ReadAsync(IStoreReader reader)
    {
        var units = new Dictionary<string, string>(StringComparer.Ordinal);
        string? dataLoss = null;
        async Task Unit(string name, Func<Task<string>> read)
        {
            try
            {
                units[name] = await read();
            }
            catch (SeedDaemonException error) when (error.Kind == ErrorKind.DataLoss)
            {
                units[name] = DataLoss;
                dataLoss ??= error.Message;
            }
        }

        var experiments = await reader.ListExperimentsAsync(null, 100_000, default);
        units["experiments"] = string.Join('\n', experiments.Select(e => $"{e.Id} {e.Root} {e.RootGenerated} {e.Frozen} {e.CreateTime:O} {string.Join(',', e.Labels.Select(l => l.Key + "=" + l.Value))}"));
        foreach (var experiment in experiments.Select(e => e.Id))
        {
            await Unit($"{experiment} head", async () => (await reader.GetChainHeadAsync(experiment, default)).ToString());
            SeedCursor? after = null;
            for (var page = 0; ; page++)
            {
                var seeds = await reader.ListSeedsAsync(experiment, after, Page, default);
                units[$"{experiment} seeds {page}"] = string.Join('\n', seeds.Select(s => $"{s.Key} {s.Seed64} {s.FirstIssueTime:O} {s.FirstRequester} {s.IssueCount}"));
                if (seeds.Count < Page)
                {
                    break;
                }

                after = new SeedCursor(seeds[^1].Key.Worker, seeds[^1].Key.Library, seeds[^1].Key.Stream);
            }

            var head = (await reader.GetChainHeadAsync(experiment, default)).Sequence;
            for (ulong from = 0; from < head; from += Page)
            {
                var start = from;
                await Unit($"{experiment} events {start}", async () => string.Join('\n', (await reader.ListEventsAsync(experiment, start, Page, default)).Select(r => $"{r.Entry} {string.Join(',', r.Entry.ClientLabels.Select(l => l.Key + '=' + l.Value))} {r.PreviousHash} {r.Hash}")));
            }

            var processes = await reader.ListProcessesAsync(experiment, null, default);
            units[$"{experiment} processes"] = string.Join('\n', processes.Select(p => $"{p.Key} {p.FirstStep} {p.LastStep} {p.Steps} {p.ConflictCount} {string.Join(',', p.Environment.Select(e => e.Key + "=" + e.Value))}"));
            foreach (var run in processes.Select(p => p.Key.RunId).Distinct(StringComparer.Ordinal))
            {
                await Unit($"{experiment} {run} fingerprints", async () =>
                {
                    var text = new StringBuilder();
                    await foreach (var page in reader.FingerprintPagesAsync(experiment, run, 0, Page, default))
                    {
                        foreach (var record in page)
                        {
                            text.Append(PowerCuts.Describe(record)).Append('\n');
                        }
                    }

                    return text.ToString();
                });
            }

            foreach (var process in processes.Where(p => p.Key.Worker % 16 == 0))
            {
                await Unit($"{process.Key} at {process.LastStep}", async () => await reader.FindFingerprintAsync(process.Key, process.LastStep, default) is { } found ? PowerCuts.Describe(new FingerprintRecord(process.Key, found)) : "none");
            }
        }

        return new Answers(units, dataLoss);
    }

    /// <summary>The units whose damaged answer is neither the pristine one nor DATA_LOSS.</summary>
    public static IEnumerable<string> Differences(Answers pristine, Answers damaged) =>
        pristine.Units.Keys.Union(damaged.Units.Keys).Order(StringComparer.Ordinal)
            .Where(unit => damaged.Units.GetValueOrDefault(unit) is not DataLoss && pristine.Units.GetValueOrDefault(unit) != damaged.Units.GetValueOrDefault(unit))
            .Select(unit => $"{unit}: was [{Cut(pristine.Units.GetValueOrDefault(unit))}], now [{Cut(damaged.Units.GetValueOrDefault(unit))}]");

    /// <summary>Copies every file of a folder into a new one.</summary>
    public static string CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        return to;
    }

    private static string Cut(string? text) => text is null ? "absent" : text.Length > 200 ? text[..200] + "…" : text;

    private static byte[] Bytes(int a, int b, int length) => [.. Enumerable.Range(0, length).Select(i => (byte)((a * 131) + (b * 17) + i))];

    private static async Task Create(SeedStore store, string id, ulong root) =>
        await store.CreateExperimentAsync(new ExperimentRecord(id, root, false, SeedSeqV1.Scheme, new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc), false, new Dictionary<string, string> { ["team"] = "sweep" }), true, default);

    private static SeedIssue Issue(string experiment, ulong root, uint worker, string library, string stream) =>
        new(new SeedKey(experiment, worker, library, stream), SeedSeqV1.Derive(root, worker, library, stream).Seed64);

    private static RequestOrigin Origin(int batch) =>
        new($"user-{batch % 5}", "127.0.0.1:5000", "node", 100 + batch, new Dictionary<string, string> { ["batch"] = batch.ToString(CultureInfo.InvariantCulture) });
}
