using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Daemon.Runs;
using SeedDaemon.V1;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>seeddaemon.v1.RunService: processes of runs, their fingerprints, and what was recorded of them.</summary>
internal sealed class RunGrpcService(RunRecorder runs) : RunService.RunServiceBase
{
    public override async Task<V1.RunProcess> RecordProcess(RecordProcessRequest request, ServerCallContext context)
    {
        var key = RunValidation.Process(request.ExperimentId, request.RunId, request.Worker);
        var resumedFrom = request.ResumedFrom is { } point ? new Recording.ResumePoint(point.RunId, point.Step) : null;
        return ToProto(await runs.RecordProcessAsync(key, request.Environment, resumedFrom, context.CancellationToken));
    }

    public override async Task<ReportFingerprintsResponse> ReportFingerprints(ReportFingerprintsRequest request, ServerCallContext context)
    {
        var key = RunValidation.Process(request.ExperimentId, request.RunId, request.Worker);
        var steps = request.Steps.Select(FromProto).ToList();
        var receipt = await runs.ReportAsync(key, steps, context.CancellationToken);
        return new ReportFingerprintsResponse { Recorded = receipt.Recorded, Repeats = receipt.Repeats, Conflicts = receipt.Conflicts };
    }

    public override async Task<V1.StepFingerprint> GetFingerprint(GetFingerprintRequest request, ServerCallContext context)
    {
        var key = RunValidation.Process(request.ExperimentId, request.RunId, request.Worker);
        return ToProto(key.Worker, await runs.GetFingerprintAsync(key, request.Step, context.CancellationToken));
    }

    public override async Task<ListRunsResponse> ListRuns(ListRunsRequest request, ServerCallContext context)
    {
        var response = new ListRunsResponse();
        response.Runs.AddRange((await runs.ListRunsAsync(request.ExperimentId, context.CancellationToken)).Select(ToProto));
        return response;
    }

    public override async Task<V1.Run> GetRun(GetRunRequest request, ServerCallContext context)
    {
        var (summary, processes) = await runs.GetRunAsync(request.ExperimentId, request.RunId, context.CancellationToken);
        var run = new V1.Run { Summary = ToProto(summary) };
        run.Processes.AddRange(processes.Select(ToProto));
        return run;
    }

    public override async Task StreamFingerprints(StreamFingerprintsRequest request, IServerStreamWriter<FingerprintChunk> responseStream, ServerCallContext context)
    {
        await foreach (var page in runs.FingerprintsAsync(request.ExperimentId, request.RunId, request.FromStep, context.CancellationToken))
        {
            var chunk = new FingerprintChunk();
            chunk.Steps.AddRange(page.Select(record => ToProto(record.Key.Worker, record.Fingerprint)));
            await responseStream.WriteAsync(chunk, context.CancellationToken);
        }
    }

    private static Recording.StepFingerprint FromProto(V1.StepFingerprint step) =>
        new(step.Step, step.Digests.Select(d => new Recording.Digest(d.Name, (Recording.DigestKind)d.Kind, d.Value.ToByteArray())).ToList());

    private static V1.StepFingerprint ToProto(uint worker, Recording.StepFingerprint fingerprint)
    {
        var step = new V1.StepFingerprint { Worker = worker, Step = fingerprint.Step };
        step.Digests.AddRange(fingerprint.Digests.Select(d => new V1.Digest { Name = d.Name, Kind = (V1.DigestKind)d.Kind, Value = ByteString.CopyFrom(d.Value) }));
        return step;
    }

    private static V1.RunProcess ToProto(ProcessRecord process)
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

    private static V1.RunSummary ToProto(Recording.RunSummary run) => new()
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

    private static V1.ResumePoint? ToProto(Recording.ResumePoint? point) => point is null ? null : new V1.ResumePoint { RunId = point.RunId, Step = point.Step };

    private static Timestamp Time(long unixMs) => Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(unixMs));
}
