using Google.Protobuf.WellKnownTypes;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Storage;
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

    public static IssuedSeed ToProto(IssuedSeedResult result)
    {
        var record = result.Record;
        var derived = result.Derived;
        var message = new IssuedSeed
        {
            ExperimentId = record.ExperimentId,
            Worker = record.Worker,
            Library = record.Library,
            Stream = record.Stream,
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
}
