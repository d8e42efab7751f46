using Grpc.Core;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.V1;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>seeddaemon.v1.AuditService: read-only questions about what was issued.</summary>
internal sealed class AuditGrpcService(SeedIssuer issuer) : AuditService.AuditServiceBase
{
    public override Task<ListIssuedSeedsResponse> ListIssuedSeeds(ListIssuedSeedsRequest request, ServerCallContext context)
    {
        var (page, next) = issuer.ListIssued(request.ExperimentId, request.PageSize, request.PageToken);
        var response = new ListIssuedSeedsResponse { NextPageToken = next };
        response.Seeds.AddRange(page.Select(ProtoMapper.ToProto));
        return Task.FromResult(response);
    }
}
