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
        return RunMapper.ToProto(await runs.RecordProcessAsync(key, request.Environment, resumedFrom, context.CancellationToken));
    }

    public override async Task<ReportFingerprintsResponse> ReportFingerprints(ReportFingerprintsRequest request, ServerCallContext context)
    {
        var key = RunValidation.Process(request.ExperimentId, request.RunId, request.Worker);
        var steps = request.Steps.Select(RunMapper.FromProto).ToList();
        var receipt = await runs.ReportAsync(key, steps, context.CancellationToken);
        return new ReportFingerprintsResponse { Recorded = receipt.Recorded, Repeats = receipt.Repeats, Conflicts = receipt.Conflicts };
    }

    public override async Task<V1.StepFingerprint> GetFingerprint(GetFingerprintRequest request, ServerCallContext context)
    {
        var key = RunValidation.Process(request.ExperimentId, request.RunId, request.Worker);
        return RunMapper.ToProto(key.Worker, await runs.GetFingerprintAsync(key, request.Step, context.CancellationToken));
    }

    public override async Task<ListRunsResponse> ListRuns(ListRunsRequest request, ServerCallContext context)
    {
        var response = new ListRunsResponse();
        response.Runs.AddRange((await runs.ListRunsAsync(request.ExperimentId, context.CancellationToken)).Select(RunMapper.ToProto));
        return response;
    }

    public override async Task<V1.Run> GetRun(GetRunRequest request, ServerCallContext context)
    {
        var (summary, processes) = await runs.GetRunAsync(request.ExperimentId, request.RunId, context.CancellationToken);
        var run = new V1.Run { Summary = RunMapper.ToProto(summary) };
        run.Processes.AddRange(processes.Select(RunMapper.ToProto));
        return run;
    }

    public override async Task StreamFingerprints(StreamFingerprintsRequest request, IServerStreamWriter<FingerprintChunk> responseStream, ServerCallContext context)
    {
        await foreach (var page in runs.FingerprintsAsync(request.ExperimentId, request.RunId, request.FromStep, context.CancellationToken))
        {
            var chunk = request.Packed ? RunMapper.ToPackedChunk(page) : new FingerprintChunk { Steps = { page.Select(record => RunMapper.ToProto(record.Key.Worker, record.Fingerprint)) } };
            await responseStream.WriteAsync(chunk, context.CancellationToken);
        }
    }
}
