using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using SeedDaemon.Derivation.Ledger;
using SeedDaemon.V1;

namespace SeedDaemon.Manifest;

/// <summary>Writes ExportManifest's stream as the manifest JSON document, part by part: memory stays bounded.</summary>
internal sealed class ManifestWriter : IAsyncDisposable
{
    private readonly Utf8JsonWriter _json;
    private Section _seeds;
    private Section _events;
    private Section _runs;
    private Section _fingerprints;

    public ManifestWriter(Stream output)
    {
        _json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _json.WriteStartObject();
        _json.WriteString("format", ManifestFormat.Format);
        _json.WriteString("ledger_format", LedgerHash.Format);
        _json.WriteString("exported_at", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
    }

    public long Seeds { get; private set; }

    public long Events { get; private set; }

    public async Task WriteAsync(ManifestPart part)
    {
        switch (part.PartCase)
        {
            case ManifestPart.PartOneofCase.Experiment:
                WriteExperiment(part.Experiment);
                break;
            case ManifestPart.PartOneofCase.Seed:
                Open(ref _seeds, "seeds");
                WriteSeed(part.Seed);
                Seeds++;
                break;
            case ManifestPart.PartOneofCase.Event:
                Close(ref _seeds, "seeds");
                Open(ref _events, "events");
                WriteEvent(part.Event);
                Events++;
                break;
            case ManifestPart.PartOneofCase.ChainHead:
                Close(ref _seeds, "seeds");
                Close(ref _events, "events");
                _json.WriteStartObject("chain_head");
                _json.WriteNumber("sequence", part.ChainHead.Sequence);
                _json.WriteString("hash", part.ChainHead.Hash);
                _json.WriteEndObject();
                break;
            case ManifestPart.PartOneofCase.Checkpoint:
                _json.WriteStartObject("tree");
                _json.WriteString("format", LedgerTree.Format);
                _json.WriteNumber("tree_size", part.Checkpoint.TreeSize);
                _json.WriteString("root", Convert.ToBase64String(part.Checkpoint.RootHash.Span));
                _json.WriteString("checkpoint", part.Checkpoint.Note);
                _json.WriteEndObject();
                break;
            case ManifestPart.PartOneofCase.RunProcess:
                Open(ref _runs, "runs");
                WriteProcess(part.RunProcess);
                break;
            case ManifestPart.PartOneofCase.Fingerprint:
                Close(ref _runs, "runs");
                Open(ref _fingerprints, "fingerprints");
                WriteFingerprint(part.Fingerprint);
                break;
            default:
                throw new InvalidDataException($"unexpected manifest part {part.PartCase}");
        }

        if (_json.BytesPending > 64 * 1024)
        {
            await _json.FlushAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close(ref _seeds, "seeds");
        Close(ref _events, "events");
        Close(ref _runs, "runs");
        Close(ref _fingerprints, "fingerprints");
        _json.WriteEndObject();
        await _json.FlushAsync();
        await _json.DisposeAsync();
    }

    private enum Section
    {
        NotStarted,
        Open,
        Closed,
    }

    // Arrays come in order, seeds, events, then (after the chain head) runs and fingerprints; an empty one is still written.
    private void Open(ref Section section, string name)
    {
        if (section == Section.NotStarted)
        {
            _json.WriteStartArray(name);
            section = Section.Open;
        }
    }

    private void Close(ref Section section, string name)
    {
        Open(ref section, name);
        if (section == Section.Open)
        {
            _json.WriteEndArray();
            section = Section.Closed;
        }
    }

    private void WriteExperiment(Experiment experiment)
    {
        _json.WriteStartObject("experiment");
        _json.WriteString("experiment_id", experiment.ExperimentId);
        _json.WriteString("root", experiment.Root);
        _json.WriteString("scheme", experiment.Scheme);
        _json.WriteString("create_time", Time(experiment.CreateTime));
        _json.WriteBoolean("frozen", experiment.Frozen);
        _json.WriteBoolean("root_generated", experiment.RootGenerated);
        WriteMap("labels", experiment.Labels);
        _json.WriteEndObject();
    }

    private void WriteSeed(IssuedSeed seed)
    {
        _json.WriteStartObject();
        _json.WriteNumber("worker", seed.Worker);
        _json.WriteString("library", seed.Library);
        _json.WriteString("stream", seed.Stream);
        _json.WriteString("seed", seed.Seed.ToString(CultureInfo.InvariantCulture));
        _json.WriteString("seed64", seed.Seed64.ToString(CultureInfo.InvariantCulture));
        _json.WriteNumber("width", seed.Width);
        WriteArray("state", seed.State);
        WriteArray("spawn_key", seed.SpawnKey);
        _json.WriteString("first_issue_time", Time(seed.FirstIssueTime));
        _json.WriteString("first_requester", seed.FirstRequester);
        _json.WriteNumber("issue_count", seed.IssueCount);
        _json.WriteEndObject();
    }

    private void WriteEvent(LedgerEvent e)
    {
        _json.WriteStartObject();
        _json.WriteNumber("sequence", e.Sequence);
        _json.WriteString("time", Time(e.Time));
        _json.WriteNumber("time_unix_ms", e.TimeUnixMs);
        _json.WriteNumber("worker", e.Worker);
        _json.WriteString("library", e.Library);
        _json.WriteString("stream", e.Stream);
        _json.WriteString("seed", e.Seed.ToString(CultureInfo.InvariantCulture));
        _json.WriteString("seed64", e.Seed64.ToString(CultureInfo.InvariantCulture));
        _json.WriteString("principal", e.Principal);
        _json.WriteString("peer", e.Peer);
        _json.WriteString("client_host", e.ClientHost);
        _json.WriteNumber("client_pid", e.ClientPid);
        WriteMap("client_labels", e.ClientLabels);
        _json.WriteString("prev_hash", e.PrevHash);
        _json.WriteString("hash", e.Hash);
        _json.WriteEndObject();
    }

    private void WriteProcess(RunProcess process)
    {
        _json.WriteStartObject();
        _json.WriteString("run_id", process.RunId);
        _json.WriteNumber("worker", process.Worker);
        WriteMap("environment", process.Environment);
        if (process.ResumedFrom is { } resumed)
        {
            _json.WriteStartObject("resumed_from");
            _json.WriteString("run_id", resumed.RunId);
            _json.WriteNumber("step", resumed.Step);
            _json.WriteEndObject();
        }
        else
        {
            _json.WriteNull("resumed_from");
        }

        _json.WriteString("start_time", Time(process.StartTime));
        _json.WriteNumber("first_step", process.FirstStep);
        _json.WriteNumber("last_step", process.LastStep);
        _json.WriteNumber("steps", process.Steps);
        _json.WriteNumber("conflict_count", process.ConflictCount);
        _json.WriteStartArray("conflicts");
        foreach (var conflict in process.Conflicts)
        {
            _json.WriteStartObject();
            _json.WriteNumber("step", conflict.Step);
            _json.WriteStartArray("names");
            foreach (var name in conflict.Names)
            {
                _json.WriteStringValue(name);
            }

            _json.WriteEndArray();
            _json.WriteEndObject();
        }

        _json.WriteEndArray();
        _json.WriteEndObject();
    }

    private void WriteFingerprint(RunStepFingerprint fingerprint)
    {
        _json.WriteStartObject();
        _json.WriteString("run_id", fingerprint.RunId);
        _json.WriteNumber("worker", fingerprint.Step.Worker);
        _json.WriteNumber("step", fingerprint.Step.Step);
        _json.WriteStartArray("digests");
        foreach (var digest in fingerprint.Step.Digests)
        {
            _json.WriteStartObject();
            _json.WriteString("name", digest.Name);
            _json.WriteString("kind", KindName(digest.Kind));
            _json.WriteString("value", Convert.ToHexStringLower(digest.Value.Span));
            _json.WriteEndObject();
        }

        _json.WriteEndArray();
        _json.WriteEndObject();
    }

    /// <summary>The contract's DigestKind without its prefix: generator, scalar, tensor, bytes (seedctl runs diff says them so too).</summary>
    internal static string KindName(DigestKind kind) => kind switch
    {
        DigestKind.Generator => "generator",
        DigestKind.Scalar => "scalar",
        DigestKind.Tensor => "tensor",
        DigestKind.Bytes => "bytes",
        _ => "unspecified",
    };

    private void WriteMap(string name, IDictionary<string, string> map)
    {
        _json.WriteStartObject(name);
        foreach (var (key, value) in map.OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            _json.WriteString(key, value);
        }

        _json.WriteEndObject();
    }

    private void WriteArray(string name, IEnumerable<uint> values)
    {
        _json.WriteStartArray(name);
        foreach (var value in values)
        {
            _json.WriteNumberValue(value);
        }

        _json.WriteEndArray();
    }

    private static string Time(Timestamp? time) => time is null ? "" : time.ToDateTime().ToString("O", CultureInfo.InvariantCulture);
}
