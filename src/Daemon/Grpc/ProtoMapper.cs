using Google.Protobuf.WellKnownTypes;
using SeedDaemon.Daemon.Audit;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>Domain records to protobuf messages.</summary>
internal static class ProtoMapper
{
    public static Experiment ToProto(ExperimentRecord experiment)
    {
        var message = new Experiment
        {
            ExperimentId = experiment.Id,
            Root = Root.Format(experiment.Root),
            RootGenerated = experiment.RootGenerated,
            Scheme = experiment.Scheme,
            CreateTime = Timestamp.FromDateTime(experiment.CreateTime),
            Frozen = experiment.Frozen,
        };
        foreach (var (key, value) in experiment.Labels)
        {
            message.Labels[key] = value;
        }

        return message;
    }

    public static IssuedSeed ToProto(SeedAnswer result)
    {
        var record = result.Record;
        var derived = result.Derived;
        var message = new IssuedSeed
        {
            ExperimentId = record.Key.ExperimentId,
            Worker = record.Key.Worker,
            Library = record.Key.Library,
            Stream = record.Key.Stream,
            Seed = Libraries.Truncate(record.Seed64, derived.Width),
            Seed64 = record.Seed64,
            Width = (uint)derived.Width,
            Root = Root.Format(result.Root),
            Scheme = SeedSeqV1.Scheme,
            FirstIssueTime = Timestamp.FromDateTime(record.FirstIssueTime),
            IssueCount = record.IssueCount,
            FirstRequester = record.FirstRequester,
        };
        var state = derived.State;
        message.State.Add(state[0]);
        message.State.Add(state[1]);
        message.State.Add(state[2]);
        message.State.Add(state[3]);
        message.SpawnKey.Add(derived.Worker);
        message.SpawnKey.Add(derived.LibraryTag);
        if (derived.HasStream)
        {
            message.SpawnKey.Add(derived.StreamTag);
        }

        return message;
    }

    public static LedgerEvent ToProto(LedgerRecord record)
    {
        var entry = record.Entry;
        var message = new LedgerEvent
        {
            ExperimentId = entry.ExperimentId,
            Sequence = entry.Sequence,
            Time = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(entry.TimeUnixMilliseconds)),
            TimeUnixMs = entry.TimeUnixMilliseconds,
            Worker = entry.Worker,
            Library = entry.Library,
            Stream = entry.Stream,
            Seed64 = entry.Seed64,
            Seed = Libraries.Truncate(entry.Seed64, Libraries.WidthOf(entry.Library)),
            Principal = entry.Principal,
            Peer = entry.Peer,
            ClientHost = entry.ClientHost,
            ClientPid = entry.ClientPid,
            PrevHash = record.PreviousHash,
            Hash = record.Hash,
        };
        foreach (var (key, value) in entry.ClientLabels)
        {
            message.ClientLabels[key] = value;
        }

        return message;
    }

    public static ManifestPart ToProto(ManifestItem item) => item switch
    {
        ManifestItem.Header header => new ManifestPart { Experiment = ToProto(header.Experiment) },
        ManifestItem.Seed seed => new ManifestPart { Seed = ToProto(seed.Issued) },
        ManifestItem.Event @event => new ManifestPart { Event = ToProto(@event.Record) },
        ManifestItem.Head head => new ManifestPart { ChainHead = new V1.ChainHead { Sequence = head.ChainHead.Sequence, Hash = head.ChainHead.Hash } },
        ManifestItem.TreeHead tree => new ManifestPart { Checkpoint = new SignedCheckpoint { Note = tree.Checkpoint.Note, TreeSize = tree.Checkpoint.Size, RootHash = Google.Protobuf.ByteString.CopyFrom(tree.Checkpoint.Root) } },
        ManifestItem.Process process => new ManifestPart { RunProcess = RunMapper.ToProto(process.Record) },
        ManifestItem.Fingerprint fingerprint => new ManifestPart { Fingerprint = new RunStepFingerprint { RunId = fingerprint.Record.Key.RunId, Step = RunMapper.ToProto(fingerprint.Record.Key.Worker, fingerprint.Record.Fingerprint) } },
        _ => throw new ArgumentOutOfRangeException(nameof(item)),
    };
}
