using System.Globalization;
using Xunit.Abstractions;

namespace SeedDaemon.Tests.Durability;

/// <summary>
/// Damage anywhere in a real database folder is found, never served and never made worse: for each
/// damaged copy seedd either refuses to start, and every file of the folder is byte for byte as before,
/// or it serves, and every answer (experiment, seed with first issue and count, ledger event, process,
/// fingerprint) is what it answered before the damage or DATA_LOSS. Never another answer, never another
/// error. Both as a clean stop leaves the files and as a kill -9 does (a copy taken while the store is
/// open, its log holding what came after the last checkpoint).
/// </summary>
public sealed class DamageSweepTests(ITestOutputHelper output)
{
    /// <summary>Every page of a small database and of its log, damaged in turn, at its start and in its middle.</summary>
    [Fact]
    public async Task Damage_in_any_page_of_a_small_database_or_its_log_is_refused_untouched_or_answered_as_written_or_DATA_LOSS()
    {
        using var folder = new TempFolder();
        var (stopped, killed, beforeLast) = await BuildAsync(folder, keys: 1500, smallExperiments: 30, processes: 16, steps: 20);
        var outcome = new Outcome(await PristineAnswersAsync(beforeLast));
        foreach (var (name, pristine) in new[] { ("clean stop", stopped), ("kill -9", killed) })
        {
            var answers = await PristineAnswersAsync(pristine);
            foreach (var file in Directory.GetFiles(pristine).Order(StringComparer.Ordinal))
            {
                var pages = new FileInfo(file).Length / 8192;
                for (var page = 0L; page < pages; page++)
                {
                    foreach (var within in new[] { 0, 4000 })
                    {
                        await outcome.TrialAsync(folder, pristine, answers, $"{name}: 64 bytes at {within} of page {page} of {Path.GetFileName(file)}", Path.GetFileName(file), (page * 8192) + within, Enumerable.Repeat((byte)0xA5, 64).ToArray());
                    }
                }
            }
        }

        output.WriteLine(outcome.Summary);
        Assert.True(outcome.Failures.Count == 0, string.Join("\n\n", outcome.Failures));
        Assert.True(outcome.Refused > 0 && outcome.DataLoss > 0, "the sweep damaged nothing that is read: " + outcome.Summary);
    }

    /// <summary>
    /// Random bit flips and short random overwrites across a database of 100,000 keys (and its log,
    /// after a kill -9). The test command runs <c>SEEDD_DAMAGE_TRIALS</c> trials (default 40; the
    /// longer campaign in the manual ran 400), from <c>SEEDD_TEST_RANDOM_SEED</c> when given.
    /// </summary>
    [Fact]
    public async Task Random_damage_to_a_database_of_100000_keys_is_refused_untouched_or_answered_as_written_or_DATA_LOSS()
    {
        var trials = int.TryParse(Environment.GetEnvironmentVariable("SEEDD_DAMAGE_TRIALS"), out var given) ? given : 40;
        var seed = TestRandom.Seed();
        var random = new Random(seed);
        using var folder = new TempFolder();
        var (stopped, killed, beforeLast) = await BuildAsync(folder, keys: 100_000, smallExperiments: 20, processes: 64, steps: 10);
        var outcome = new Outcome(await PristineAnswersAsync(beforeLast));
        var pristines = new[] { ("clean stop", stopped, await PristineAnswersAsync(stopped)), ("kill -9", killed, await PristineAnswersAsync(killed)) };
        for (var trial = 0; trial < trials; trial++)
        {
            var (name, pristine, answers) = pristines[trial % 2];
            var files = Directory.GetFiles(pristine).Where(f => new FileInfo(f).Length > 0).Order(StringComparer.Ordinal).ToArray();
            var file = files[random.Next(files.Length)];
            var length = new FileInfo(file).Length;
            var at = random.NextInt64(length);
            byte[] bytes;
            string what;
            if (random.Next(2) == 0)
            {
                var original = (await File.ReadAllBytesAsync(file))[at];
                var bit = random.Next(8);
                bytes = [(byte)(original ^ (1 << bit))];
                what = $"bit {bit} flipped";
            }
            else
            {
                bytes = new byte[random.Next(1, 65)];
                random.NextBytes(bytes);
                what = $"{bytes.Length} random bytes written";
            }

            await outcome.TrialAsync(folder, pristine, answers, $"{name}, trial {trial}: {what} at byte {at} of {Path.GetFileName(file)} ({length} bytes)", Path.GetFileName(file), at, bytes);
        }

        output.WriteLine($"{outcome.Summary} (random seed {seed})");
        Assert.True(outcome.Failures.Count == 0, $"random seed {seed}:\n" + string.Join("\n\n", outcome.Failures));
    }

    /// <summary>
    /// A database folder as a clean stop leaves it, and a copy of it as a kill -9 leaves it after more
    /// was written (with a copy from just before its last commit: see <see cref="Outcome.LastCommitLost"/>).
    /// </summary>
    private static async Task<(string Stopped, string Killed, string BeforeLastCommit)> BuildAsync(TempFolder folder, int keys, int smallExperiments, int processes, int steps)
    {
        var stopped = Directory.CreateDirectory(folder.File("stopped")).FullName;
        var store = EmbeddedStore.Open(Path.Combine(stopped, "seeds.db"), maxBatch: 16);
        await DamageOracle.FillAsync(store, keys, smallExperiments, processes, steps);
        store.Dispose();

        // More written after a clean start, copied while the store is open: the log holds it, as after a kill -9.
        var killed = DamageOracle.CopyFolder(stopped, folder.File("killed"));
        var running = EmbeddedStore.Open(Path.Combine(killed, "seeds.db"), maxBatch: 16, checkpoints: DamageOracle.NoCheckpoints);
        await DamageOracle.FillAsync(running, keys / 10, 0, 0, 0);
        var beforeLast = await CopyOpenAsync(killed, folder.File("before-last"));
        await DamageOracle.IssueAgainAsync(running, 100);
        var copy = await CopyOpenAsync(killed, folder.File("killed-copy"));
        running.Dispose();
        return (stopped, copy, beforeLast);

        // cp takes no lock (the open store holds the files' locks, as a crashed seedd no longer would).
        static async Task<string> CopyOpenAsync(string from, string to)
        {
            var cp = await ProcessRunner.RunAsync("cp", ["-r", from, to]);
            Assert.True(cp.ExitCode == 0, cp.Stderr);
            return to;
        }
    }

    private static async Task<DamageOracle.Answers> PristineAnswersAsync(string pristine)
    {
        using var scratch = new TempFolder();
        var (answers, refused) = await DamageOracle.ReadFolderAsync(DamageOracle.CopyFolder(pristine, scratch.File("copy")));
        Assert.True(refused is null, refused?.Message);
        Assert.DoesNotContain(answers!.Units.Values, a => a == DamageOracle.DataLoss);
        return answers;
    }

    private sealed class Outcome(DamageOracle.Answers beforeLastCommit)
    {
        private int _trials;

        /// <summary>
        /// Served what was answered before the kill -9 copy's last commit: damage to the pages of the
        /// log's last transaction reads to LiteDB as a commit that a crash cut short, which it drops.
        /// seedd cannot tell the two apart (LiteDB's log has no checksums); docs/operations.md lists it.
        /// </summary>
        public int LastCommitLost { get; private set; }

        public int Refused { get; private set; }

        public int DataLoss { get; private set; }

        public int Whole { get; private set; }

        public List<string> Failures { get; } = [];

        public string Summary => $"{_trials} damaged copies: {Refused} refused (every file unchanged), {DataLoss} served with DATA_LOSS where the damage was read, {Whole} served every answer as written, {LastCommitLost} served the state before the log's damaged last transaction; {Failures.Count} otherwise";

        public async Task TrialAsync(TempFolder folder, string pristine, DamageOracle.Answers answers, string description, string file, long at, byte[] bytes)
        {
            var trial = DamageOracle.CopyFolder(pristine, folder.File($"trial-{_trials++.ToString(CultureInfo.InvariantCulture)}"));
            try
            {
                await using (var damage = new FileStream(Path.Combine(trial, file), FileMode.Open, FileAccess.Write))
                {
                    damage.Position = at;
                    await damage.WriteAsync(bytes.AsMemory(0, (int)Math.Min(bytes.Length, damage.Length - at)));
                }

                var before = DirectorySnapshot.Take(trial);
                (DamageOracle.Answers? Answers, Exception? Refused) result;
                try
                {
                    result = await DamageOracle.ReadFolderAsync(trial);
                }
                catch (Exception error)
                {
                    Failures.Add($"{description}: {error}");
                    return;
                }

                if (result.Refused is { } refused)
                {
                    Refused++;
                    try
                    {
                        before.AssertUnchanged(trial, $"{description}: the refused start ({refused.Message})");
                    }
                    catch (Exception changed)
                    {
                        Failures.Add(changed.Message);
                    }

                    return;
                }

                var differences = DamageOracle.Differences(answers, result.Answers!).ToList();
                if (differences.Count > 0 && file.EndsWith("-log.db", StringComparison.Ordinal) && !DamageOracle.Differences(beforeLastCommit, result.Answers!).Any())
                {
                    LastCommitLost++;
                }
                else if (differences.Count > 0)
                {
                    Failures.Add($"{description}: served other answers:\n  " + string.Join("\n  ", differences.Take(5)));
                }
                else if (result.Answers!.DataLossMessage is not null)
                {
                    DataLoss++;
                }
                else
                {
                    Whole++;
                }
            }
            finally
            {
                Directory.Delete(trial, recursive: true);
            }
        }
    }
}
