using Grpc.Core;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.V1;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>seeddaemon.v1.SeedService: validates, calls the domain, maps to messages. Errors are mapped by <see cref="ErrorInterceptor"/>.</summary>
internal sealed class SeedGrpcService(ExperimentRegistry experiments, SeedIssuer issuer, RequestLimits limits) : SeedService.SeedServiceBase
{
    public override async Task<Experiment> CreateExperiment(CreateExperimentRequest request, ServerCallContext context) =>
        ProtoMapper.ToProto(await experiments.CreateAsync(request.ExperimentId, request.Root, request.Labels, context.CancellationToken));

    public override async Task<Experiment> GetExperiment(GetExperimentRequest request, ServerCallContext context) =>
        ProtoMapper.ToProto(await experiments.GetAsync(request.ExperimentId, context.CancellationToken));

    public override async Task<ListExperimentsResponse> ListExperiments(ListExperimentsRequest request, ServerCallContext context)
    {
        var (page, next) = await experiments.ListAsync(request.PageSize, request.PageToken, context.CancellationToken);
        var response = new ListExperimentsResponse { NextPageToken = next };
        response.Experiments.AddRange(page.Select(ProtoMapper.ToProto));
        return response;
    }

    public override async Task<Experiment> FreezeExperiment(FreezeExperimentRequest request, ServerCallContext context) =>
        ProtoMapper.ToProto(await experiments.FreezeAsync(request.ExperimentId, context.CancellationToken));

    public override async Task<IssuedSeed> GetSeed(GetSeedRequest request, ServerCallContext context)
    {
        var key = Validation.Key(request.ExperimentId, request.Worker, request.Library, request.Stream);
        var issued = await issuer.IssueAsync([key], Requester.Of(context), context.CancellationToken);
        return ProtoMapper.ToProto(issued[0]);
    }

    public override async Task<BatchGetSeedsResponse> BatchGetSeeds(BatchGetSeedsRequest request, ServerCallContext context)
    {
        if (request.Requests.Count > limits.MaxBatchKeys)
        {
            throw SeedDaemonException.Invalid("requests", $"a batch holds at most {limits.MaxBatchKeys} keys, got {request.Requests.Count}; split it.");
        }

        var keys = new SeedKey[request.Requests.Count];
        for (var i = 0; i < keys.Length; i++)
        {
            var r = request.Requests[i];
            keys[i] = Validation.Key(r.ExperimentId, r.Worker, r.Library, r.Stream, i);
        }

        var issued = await issuer.IssueAsync(keys, Requester.Of(context), context.CancellationToken);
        var response = new BatchGetSeedsResponse();
        response.Seeds.AddRange(issued.Select(ProtoMapper.ToProto));
        return response;
    }
}
