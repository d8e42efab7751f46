using System.Globalization;
using System.Text.Json;
using SeedDaemon.Derivation;
using SeedDaemon.Derivation.Ledger;
using SeedDaemon.Client;
using SeedDaemon.Client.Proofs;
using SeedDaemon.Ledger;
using SeedDaemon.Manifest;

namespace SeedDaemon.Ctl.Manifest;

/// <summary>The outcome of verifying a manifest offline. <see cref="Signature"/>: "yes", "not checked (no --key)", or "-" (a v1 manifest, or no events).</summary>
public sealed record ManifestVerification(bool Ok, string ExperimentId, long Seeds, long Events, string ChainHead, string? FirstProblem)
{
    public string TreeRoot { get; init; } = "-";

    /// <summary>Keys issued, or issued again, after the export read its seeds (events[] shows them; seeds[] does not yet).</summary>
    public long LaggingKeys { get; init; }

    public string Signature { get; init; } = "-";
}

/// <summary>
/// Verifies a manifest with nothing but the file (and the deployment's verifier key, to check a
/// v2 manifest's signed checkpoint): re-derives every seed with seedseq-v1, re-hashes the ledger
/// chain and recomputes the tree's root. Streams the file; stops at the first bad record and names it.
/// </summary>
public static class ManifestVerifier
{
    public static ManifestVerification Verify(Stream manifest, Action<long>? progress = null, string? verifierKey = null)
    {
        using var json = new StreamingJson(manifest);
        var state = new State(verifierKey);
        try
        {
            Expect(json.Next().Type == JsonTokenType.StartObject, "the manifest is not a JSON object");
            while (true)
            {
                var (type, name) = json.Next();
                if (type == JsonTokenType.EndObject)
                {
                    break;
                }

                Expect(type == JsonTokenType.PropertyName, "malformed manifest");
                switch (name)
                {
                    case "format":
                        var format = json.NextValue()!.Value.GetString();
                        Expect(format is ManifestFormat.Format or ManifestFormat.FormatV1, $"format is '{format}', not {ManifestFormat.Format} (or {ManifestFormat.FormatV1})");
                        state.Version = format == ManifestFormat.Format ? 2 : 1;
                        break;
                    case "ledger_format":
                        var ledger = json.NextValue()!.Value.GetString();
                        Expect(ledger == LedgerHash.Format, $"ledger_format is '{ledger}', not {LedgerHash.Format}");
                        break;
                    case "experiment":
                        state.Experiment(json.NextValue()!.Value);
                        break;
                    case "seeds":
                        Expect(json.Next().Type == JsonTokenType.StartArray, "seeds is not an array");
                        while (json.NextValue() is { } seed)
                        {
                            state.Seed(seed);
                        }

                        break;
                    case "events":
                        Expect(json.Next().Type == JsonTokenType.StartArray, "events is not an array");
                        while (json.NextValue() is { } @event)
                        {
                            state.Event(@event);
                            if (state.Events % 100_000 == 0)
                            {
                                progress?.Invoke(state.Events);
                            }
                        }

                        break;
                    case "chain_head":
                        state.Head(json.NextValue()!.Value);
                        break;
                    case "tree" when state.Version == 2:
                        state.Tree(json.NextValue()!.Value);
                        break;
                    default:
                        json.NextValue();
                        break;
                }
            }

            Expect(state.HeadSeen, "the manifest has no chain_head");
            state.CheckSeedsAgainstEvents();
            Expect(state.Version < 2 || state.Events == 0 || state.TreeRoot != "-", "the manifest (v2) has no tree: its signed checkpoint is missing");
            Expect(verifierKey is null || state.Events == 0 || state.TreeRoot != "-", $"--key was given, but the manifest ({(state.Version < 2 ? ManifestFormat.FormatV1 : ManifestFormat.Format)}) has no signed checkpoint to check: verify it without --key to check its chain alone");
            return new ManifestVerification(true, state.ExperimentId, state.Seeds, state.Events, state.Previous, null) { TreeRoot = state.TreeRoot, Signature = state.Signature, LaggingKeys = state.LaggingKeys };
        }
        catch (ManifestProblem problem)
        {
            return new ManifestVerification(false, state.ExperimentId, state.Seeds, state.Events, state.Previous, problem.Message);
        }
        catch (Exception error) when (error is JsonException or FormatException or InvalidOperationException or KeyNotFoundException or OverflowException)
        {
            return new ManifestVerification(false, state.ExperimentId, state.Seeds, state.Events, state.Previous, $"the manifest is malformed near {state.Where}: {error.Message}");
        }
    }

    private static void Expect(bool condition, string problem)
    {
        if (!condition)
        {
            throw new ManifestProblem(problem);
        }
    }

    private sealed class ManifestProblem(string message) : Exception(message);

    private sealed class State(string? verifierKey)
    {
        private readonly ColumnCache _columns = new();
        private readonly MerkleFrontier _tree = new();
        private readonly LedgerLeafHasher _leaves = new();
        private readonly ManifestKeys _keys = new();
        private UInt128 _root;
        private bool _haveExperiment;

        public string ExperimentId { get; private set; } = "";

        public long Seeds { get; private set; }

        public long Events { get; private set; }

        public string Previous { get; private set; } = LedgerHash.ToHex(LedgerHash.Genesis);

        public bool HeadSeen { get; private set; }

        public string Where { get; private set; } = "the start";

        public int Version { get; set; } = 2;

        public string TreeRoot { get; private set; } = "-";

        public string Signature { get; private set; } = "-";

        public void Experiment(JsonElement experiment)
        {
            Where = "experiment";
            ExperimentId = experiment.GetProperty("experiment_id").GetString()!;
            var scheme = experiment.GetProperty("scheme").GetString();
            Expect(scheme == SeedSeqV1.Scheme, $"experiment {ExperimentId}: scheme '{scheme}' is not {SeedSeqV1.Scheme}");
            Expect(Root.TryParse(experiment.GetProperty("root").GetString(), out _root), $"experiment {ExperimentId}: root is not a decimal integer below 2^128");
            _haveExperiment = true;
        }

        public void Seed(JsonElement seed)
        {
            Expect(_haveExperiment, "seeds come before the experiment");
            Seeds++;
            var (worker, library, stream) = Key(seed);
            var name = $"seed {Seeds} (worker {worker}, library '{library}', stream '{stream}')";
            Where = name;
            var expected = _columns.Get(_root, library, stream).Derive(worker);
            Expect(U64(seed, "seed64") == expected.Seed64, $"{name}: seed64 {U64(seed, "seed64")} is not the seedseq-v1 seed {expected.Seed64}");
            Expect(seed.GetProperty("width").GetInt32() == Libraries.WidthOf(library), $"{name}: width {seed.GetProperty("width").GetInt32()} is not library '{library}''s {Libraries.WidthOf(library)}");
            Expect(U64(seed, "seed") == Libraries.Truncate(U64(seed, "seed64"), Libraries.WidthOf(library)), $"{name}: seed {U64(seed, "seed")} is not seed64 cut to library '{library}''s {Libraries.WidthOf(library)} bits ({expected.Seed})");
            Expect(Words(seed, "state").SequenceEqual(expected.StateWords()), $"{name}: state is not SeedSequence(root, spawn_key).generate_state(4)");
            Expect(Words(seed, "spawn_key").SequenceEqual(expected.SpawnKey()), $"{name}: spawn_key is not [worker, tag(library)(, tag(stream))]");
            var problem = _keys.Seed(Seeds, (worker, library, stream), seed.GetProperty("first_issue_time").GetString()!, seed.GetProperty("first_requester").GetString()!, seed.GetProperty("issue_count").GetUInt64());
            Expect(problem is null, problem!);
        }

        /// <summary>Keys issued (again) after the export read the seeds: in events[] only, or with a lower issue_count.</summary>
        public long LaggingKeys => _keys.Lagging;

        /// <summary>seeds[] against events[], once both are read.</summary>
        public void CheckSeedsAgainstEvents()
        {
            Where = "seeds[] against events[]";
            var problem = _keys.Disagreement();
            Expect(problem is null, problem!);
        }

        public void Event(JsonElement e)
        {
            Expect(_haveExperiment, "events come before the experiment");
            Events++;
            var sequence = e.GetProperty("sequence").GetUInt64();
            var name = $"event {sequence}";
            Where = name;
            Expect(sequence == (ulong)Events, $"event {Events} is missing (found sequence {sequence} in its place)");
            var (worker, library, stream) = Key(e);
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var label in e.GetProperty("client_labels").EnumerateObject())
            {
                labels[label.Name] = label.Value.GetString()!;
            }

            var entry = new LedgerEntry(
                ExperimentId, sequence, e.GetProperty("time_unix_ms").GetInt64(), worker, library, stream, U64(e, "seed64"),
                e.GetProperty("principal").GetString()!, e.GetProperty("peer").GetString()!, e.GetProperty("client_host").GetString()!,
                e.GetProperty("client_pid").GetInt64(), labels);
            var previous = e.GetProperty("prev_hash").GetString();
            Expect(previous == Previous, $"{name}: prev_hash {previous} is not the hash of event {sequence - 1} ({Previous})");
            var hash = LedgerHash.ToHex(LedgerHash.Compute(LedgerHash.FromHex(Previous), entry));
            Expect(hash == e.GetProperty("hash").GetString(), $"{name} (worker {worker}, library '{library}', stream '{stream}'): its hash does not match its contents; the event was altered");
            var expected = _columns.Get(_root, library, stream).Derive(worker);
            Expect(entry.Seed64 == expected.Seed64, $"{name}: seed64 {entry.Seed64} is not the seedseq-v1 seed {expected.Seed64}");

            // The seed a user applies is not in the hash: it must be seed64 cut to the library's width.
            var seed = U64(e, "seed");
            Expect(seed == Libraries.Truncate(entry.Seed64, Libraries.WidthOf(library)), $"{name}: seed {seed} is not seed64 {entry.Seed64} cut to library '{library}''s {Libraries.WidthOf(library)} bits ({expected.Seed})");
            // The readable time is not in the hash: it must be the hashed one.
            var time = e.GetProperty("time").GetString()!;
            Expect(IsTime(time, entry.TimeUnixMilliseconds), $"{name}: time '{time}' is not its time_unix_ms {entry.TimeUnixMilliseconds}");
            _keys.Event(sequence, (worker, library, stream), entry.TimeUnixMilliseconds, entry.Principal is { Length: > 0 } principal ? principal : entry.Peer);
            Previous = hash;
            _tree.Append(_leaves.Hash(entry));
        }

        /// <summary>The tree of the events exported: its size and recomputed root, and the checkpoint that signs them.</summary>
        public void Tree(JsonElement tree)
        {
            Where = "tree";
            var size = tree.GetProperty("tree_size").GetInt64();
            var root = Convert.ToBase64String(_tree.Root());
            Expect(size == Events && _tree.Size == Events, $"tree: tree_size {size} is not the {Events} events exported");
            Expect(tree.GetProperty("root").GetString() == root, $"tree: root {tree.GetProperty("root").GetString()} is not the root of the events ({root}): an event or the root was altered");
            var note = tree.GetProperty("checkpoint").GetString()!;
            if (verifierKey is null)
            {
                var text = note[..(note.IndexOf("\n\n", StringComparison.Ordinal) + 1)];
                var checkpoint = SeedDaemon.Ledger.Checkpoint.Parse(text);
                Expect(checkpoint.Size == size && Convert.ToBase64String(checkpoint.Root) == root, $"tree: the checkpoint states {checkpoint.Size} entries and root {Convert.ToBase64String(checkpoint.Root)}, not the events'");
                Signature = "not checked (no --key)";
            }
            else
            {
                try
                {
                    var signed = LedgerCheckpoint.Open(note, verifierKey, ExperimentId);
                    Expect(signed.Size == size && Convert.ToBase64String(signed.Root) == root, $"tree: the signed checkpoint states {signed.Size} entries and root {Convert.ToBase64String(signed.Root)}, not the events'");
                }
                catch (SeedVerificationException error)
                {
                    throw new ManifestProblem($"tree: {error.Message}");
                }

                Signature = "yes";
            }

            TreeRoot = root;
        }

        public void Head(JsonElement head)
        {
            Where = "chain_head";
            var sequence = head.GetProperty("sequence").GetUInt64();
            var hash = head.GetProperty("hash").GetString();
            Expect(sequence == (ulong)Events && hash == Previous, $"chain_head (sequence {sequence}, hash {hash}) does not match the last event (sequence {Events}, hash {Previous})");
            HeadSeen = true;
        }

        /// <summary>The readable time is the hashed one: as the writers format it (round-trip, 7 digits, Z), or any ISO 8601 of the same millisecond.</summary>
        private static bool IsTime(string time, long unixMs) =>
            time == DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("O", CultureInfo.InvariantCulture)
            || (DateTimeOffset.TryParse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) && parsed.ToUnixTimeMilliseconds() == unixMs)
            || (time.Length == 0 && unixMs == 0);

        private static (uint Worker, string Library, string Stream) Key(JsonElement element)
        {
            var library = element.GetProperty("library").GetString()!;
            var stream = element.GetProperty("stream").GetString()!;
            Expect(KeyRules.IsValidName(library) && KeyRules.IsValidStream(stream), $"invalid library '{library}' or stream '{stream}'");
            var worker = element.GetProperty("worker").GetUInt32();
            Expect(KeyRules.IsValidWorker(worker), "worker 4294967295 is reserved");
            return (worker, library, stream);
        }

        private static ulong U64(JsonElement element, string name) =>
            ulong.Parse(element.GetProperty(name).GetString()!, NumberStyles.None, CultureInfo.InvariantCulture);

        private static IEnumerable<uint> Words(JsonElement element, string name) =>
            element.GetProperty(name).EnumerateArray().Select(w => w.GetUInt32());
    }
}
