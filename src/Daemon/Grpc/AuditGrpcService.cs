using Grpc.Core;
using SeedDaemon.Daemon.Audit;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>seeddaemon.v1.AuditService: read-only questions about what was issued, and ledger proofs.</summary>
internal sealed class AuditGrpcService(SeedIssuer issuer, LedgerAuditor auditor) : AuditService.AuditServiceBase
{
    public override Task<ListIssuedSeedsResponse> ListIssuedSeeds(ListIssuedSeedsRequest request, ServerCallContext context)
    {
        var (page, next) = issuer.ListIssued(request.ExperimentId, request.PageSize, request.PageToken);
        var response = new ListIssuedSeedsResponse { NextPageToken = next };
        response.Seeds.AddRange(page.Select(ProtoMapper.ToProto));
        return Task.FromResult(response);
    }

    public override Task<ListEventsResponse> ListEvents(ListEventsRequest request, ServerCallContext context)
    {
        var filter = new EventFilter(
            request.ExperimentId,
            request.HasWorkerMin ? request.WorkerMin : null,
            request.HasWorkerMax ? request.WorkerMax : null,
            request.HasLibrary ? request.Library : null,
            request.HasStream ? request.Stream : null,
            request.StartTime?.ToDateTime(),
            request.EndTime?.ToDateTime());
        var (page, next) = auditor.ListEvents(filter, request.PageSize, request.PageToken);
        var response = new ListEventsResponse { NextPageToken = next };
        response.Events.AddRange(page.Select(ProtoMapper.ToProto));
        return Task.FromResult(response);
    }

    public override Task<VerifySeedResponse> VerifySeed(VerifySeedRequest request, ServerCallContext context)
    {
        var key = SeedKey.Parse(request.ExperimentId, request.Worker, request.Library, request.Stream);
        var check = auditor.VerifySeed(key, request.Seed);
        var response = new VerifySeedResponse
        {
            Match = check.Match,
            ExpectedSeed = check.Expected.Seed,
            ExpectedSeed64 = check.Expected.Seed64,
            Width = (uint)check.Expected.Width,
            Issued = check.Record is not null,
            IssueCount = check.Record?.IssueCount ?? 0,
            Scheme = SeedSeqV1.Scheme,
        };
        if (check.Record is not null)
        {
            response.FirstIssueTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(check.Record.FirstIssueTime);
        }

        return Task.FromResult(response);
    }

    public override async Task ExportManifest(ExportManifestRequest request, IServerStreamWriter<ManifestPart> responseStream, ServerCallContext context)
    {
        foreach (var item in auditor.Manifest(request.ExperimentId))
        {
            context.CancellationToken.ThrowIfCancellationRequested();
            await responseStream.WriteAsync(ProtoMapper.ToProto(item), context.CancellationToken);
        }
    }

    public override Task<VerifyLedgerResponse> VerifyLedger(VerifyLedgerRequest request, ServerCallContext context)
    {
        var result = auditor.VerifyLedger(request.ExperimentId);
        return Task.FromResult(new VerifyLedgerResponse
        {
            Ok = result.Ok,
            EventsChecked = result.EventsChecked,
            FirstBrokenSequence = result.FirstBrokenSequence,
            Reason = result.Reason,
            ChainHead = new V1.ChainHead { Sequence = result.Head.Sequence, Hash = result.Head.Hash },
        });
    }
}
