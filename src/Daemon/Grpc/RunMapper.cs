using System.Buffers.Binary;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>Runs between the domain's records and the contract's messages (RunService, and runs in the manifest).</summary>
internal static class RunMapper
{
    public static Recording.StepFingerprint FromProto(V1.StepFingerprint step) =>
        new(step.Step, step.Digests.Select(d => new Recording.Digest(d.Name, (Recording.DigestKind)d.Kind, d.Value.ToByteArray())).ToList());

    public static V1.StepFingerprint ToProto(uint worker, Recording.StepFingerprint fingerprint)
    {
        var step = new V1.StepFingerprint { Worker = worker, Step = fingerprint.Step };
        step.Digests.AddRange(fingerprint.Digests.Select(d => new V1.Digest { Name = d.Name, Kind = (V1.DigestKind)d.Kind, Value = ByteString.CopyFrom(d.Value) }));
        return step;
    }

    /// <summary>A page of fingerprints as one chunk of packed steps (the layout is in the contract's FingerprintChunk).</summary>
    public static V1.FingerprintChunk ToPackedChunk(IReadOnlyList<FingerprintRecord> page)
    {
        const int Head = 4 + 8 + 2;
        var size = 0;
        foreach (var record in page)
        {
            size += Head + PackedDigests.Size(record.Fingerprint.Digests);
        }

        var bytes = new byte[size];
        var at = 0;
        foreach (var record in page)
        {
            var span = bytes.AsSpan(at);
            BinaryPrimitives.WriteUInt32LittleEndian(span, record.Key.Worker);
            BinaryPrimitives.WriteInt64LittleEndian(span[4..], record.Fingerprint.Step);
            var length = PackedDigests.Write(record.Fingerprint.Digests, span[Head..]);
            BinaryPrimitives.WriteUInt16LittleEndian(span[12..], (ushort)length);
            at += Head + length;
        }

        // The array is not touched again: the message wraps it instead of copying it.
        return new V1.FingerprintChunk { PackedSteps = UnsafeByteOperations.UnsafeWrap(bytes) };
    }

    public static V1.RunProcess ToProto(ProcessRecord process)
    {
        var proto = new V1.RunProcess
        {
            ExperimentId = process.Key.ExperimentId,
            RunId = process.Key.RunId,
            Worker = process.Key.Worker,
            StartTime = Time(process.StartUnixMs),
            FirstStep = process.FirstStep,
            LastStep = process.LastStep,
            Steps = process.Steps,
            ConflictCount = process.ConflictCount,
            ResumedFrom = ToProto(process.ResumedFrom),
        };
        proto.Environment.Add(process.Environment.ToDictionary());
        proto.Conflicts.AddRange(process.Conflicts.Select(c => new V1.StepConflict { Step = c.Step, Names = { c.Names } }));
        return proto;
    }

    public static V1.RunSummary ToProto(Recording.RunSummary run) => new()
    {
        RunId = run.RunId,
        Processes = run.Processes,
        StartTime = Time(run.StartUnixMs),
        FirstStep = run.FirstStep,
        LastStep = run.LastStep,
        Fingerprints = run.Fingerprints,
        Conflicts = run.Conflicts,
        ResumedFrom = ToProto(run.ResumedFrom),
    };

    public static V1.ResumePoint? ToProto(Recording.ResumePoint? point) => point is null ? null : new V1.ResumePoint { RunId = point.RunId, Step = point.Step };

    public static Timestamp Time(long unixMs) => Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
}
