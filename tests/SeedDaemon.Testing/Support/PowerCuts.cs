extern alias daemon;

using daemon::SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Testing;

/// <summary>
/// Cuts the power at every write of one operation on the embedded store, each way (everything
/// unflushed lost; a random prefix of it kept, the last write possibly torn; all of it kept, the
/// last write torn), each time on a fresh copy of a disk, and reopens what survived: it must open and answer exactly what the whole operation gives.
/// </summary>
internal static class PowerCuts
{
    /// <param name="files">The disk before the operation (<see cref="SimulatedDisk.Files"/>).</param>
    /// <param name="writes">How many times the whole operation writes.</param>
    /// <param name="cutShort">Runs the operation on the copy with the power going off at its given write.</param>
    /// <param name="expected">What the store answers after the whole operation (<see cref="ContentsAsync"/>).</param>
    /// <returns>One line per cut whose survivor did not open or answered differently; empty when all held.</returns>
    public static async Task<List<string>> AtEveryWriteAsync(
        IReadOnlyDictionary<string, byte[]> files, string path, int writes, Action<SimulatedDisk, int> cutShort, string expected, int randomSeed)
    {
        var random = new Random(randomSeed);
        var failures = new List<string>();
        for (var cut = 1; cut <= writes; cut++)
        {
            foreach (var mode in Enum.GetValues<PowerCut>())
            {
                var disk = SimulatedDisk.Holding(files);
                cutShort(disk, cut);
                var when = $"power cut at write {cut} of {writes} ({mode}, random seed {randomSeed})";
                try
                {
                    using var reopened = EmbeddedStore.Open(path, disk.CutPower(mode, random));
                    if (expected != await ContentsAsync(reopened))
                    {
                        failures.Add($"{when}: the reopened store answers differently");
                    }
                }
                catch (Exception error) when (error is not Xunit.Sdk.XunitException)
                {
                    failures.Add($"{when}: {error.GetType().Name}: {error.Message}");
                }
            }
        }

        return failures;
    }

    /// <summary>
    /// Opening a store (a migration, say) with the power cut at each of its writes, each way: the
    /// open run whole first, over <paramref name="files"/>, gives the reference and the count of
    /// writes (<paramref name="checkWhole"/> looks at that store too).
    /// </summary>
    public static async Task<(int Writes, int Seed, List<string> Failures)> AtEveryWriteOfOpenAsync(IReadOnlyDictionary<string, byte[]> files, string path, Func<SeedStore, Task> checkWhole)
    {
        var whole = SimulatedDisk.Holding(files);
        string reference;
        int writes;
        using (var store = EmbeddedStore.Open(path, whole))
        {
            writes = whole.Writes;
            reference = await ContentsAsync(store);
            await checkWhole(store);
        }

        var seed = TestRandom.Seed();
        var failures = await AtEveryWriteAsync(files, path, writes, (disk, cut) =>
        {
            disk.PowerOffAtWrite = cut;
            Assert.ThrowsAny<Exception>(() => EmbeddedStore.Open(path, disk).Dispose());
        }, reference, seed);
        return (writes, seed, failures);
    }

    /// <summary>A fingerprint as text: its process, step and every digest (name, kind, value).</summary>
    public static string Describe(FingerprintRecord record) =>
        $"{record.Key} {record.Fingerprint.Step} " + string.Join(';', record.Fingerprint.Digests.Select(d => $"{d.Name}:{d.Kind}:{Convert.ToHexString(d.Value)}"));

    /// <summary>Every experiment, issued key, ledger event (with its hashes), process and fingerprint the store answers, as text.</summary>
    public static async Task<string> ContentsAsync(SeedStore store)
    {
        var text = new System.Text.StringBuilder();
        foreach (var experiment in await store.Reader.ListExperimentsAsync(null, 100, default))
        {
            // The file keeps times to the millisecond.
            text.AppendLine($"{experiment.Id} {experiment.Root} {experiment.Frozen} {experiment.CreateTime:yyyy-MM-ddTHH:mm:ss.fff} {string.Join(',', experiment.Labels.OrderBy(l => l.Key))}");
            text.AppendJoin('\n', await store.Reader.ListSeedsAsync(experiment.Id, null, 100_000, default)).AppendLine();
            text.AppendJoin('\n', (await store.Reader.ListEventsAsync(experiment.Id, 0, 100_000, default)).Select(e => $"{e.Entry with { ClientLabels = new Dictionary<string, string>() }} {string.Join(',', e.Entry.ClientLabels)} {e.PreviousHash} {e.Hash}")).AppendLine();
            text.AppendLine((await store.Reader.GetChainHeadAsync(experiment.Id, default)).ToString());
            var tree = await store.Reader.GetTreeAsync(experiment.Id, default);
            text.AppendLine($"tree {tree.Size} {Convert.ToHexStringLower(tree.Root())}");
            var processes = await store.Reader.ListProcessesAsync(experiment.Id, null, default);
            text.AppendJoin('\n', processes.Select(p => $"{p with { Environment = new Dictionary<string, string>(), Conflicts = [] }} {string.Join(',', p.Environment)} {p.Conflicts.Count}")).AppendLine();
            foreach (var run in processes.Select(p => p.Key.RunId).Distinct(StringComparer.Ordinal))
            {
                await foreach (var page in store.Reader.FingerprintPagesAsync(experiment.Id, run, 0, 1000, default))
                {
                    text.AppendJoin('\n', page.Select(Describe)).AppendLine();
                }
            }
        }

        return text.ToString();
    }
}
