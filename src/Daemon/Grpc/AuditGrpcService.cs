using Grpc.Core;
using SeedDaemon.Daemon.Audit;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>seeddaemon.v1.AuditService: read-only questions about what was issued, and ledger proofs.</summary>
internal sealed class AuditGrpcService(SeedIssuer issuer, LedgerAuditor auditor) : AuditService.AuditServiceBase
{
    public override async Task<ListIssuedSeedsResponse> ListIssuedSeeds(ListIssuedSeedsRequest request, ServerCallContext context)
    {
        var keys = Keys(request.HasWorkerMin, request.WorkerMin, request.HasWorkerMax, request.WorkerMax, request.HasLibrary, request.Library, request.HasStream, request.Stream);
        var (page, next) = await issuer.ListIssuedAsync(request.ExperimentId, keys, request.PageSize, request.PageToken, context.CancellationToken);
        var response = new ListIssuedSeedsResponse { NextPageToken = next };
        response.Seeds.AddRange(page.Select(ProtoMapper.ToProto));
        return response;
    }

    public override async Task<ListEventsResponse> ListEvents(ListEventsRequest request, ServerCallContext context)
    {
        var filter = new EventFilter(
            request.ExperimentId,
            Keys(request.HasWorkerMin, request.WorkerMin, request.HasWorkerMax, request.WorkerMax, request.HasLibrary, request.Library, request.HasStream, request.Stream),
            request.StartTime?.ToDateTime(),
            request.EndTime?.ToDateTime());
        var (page, next) = await auditor.ListEventsAsync(filter, request.PageSize, request.PageToken, context.CancellationToken);
        var response = new ListEventsResponse { NextPageToken = next };
        response.Events.AddRange(page.Select(ProtoMapper.ToProto));
        return response;
    }

    public override async Task<VerifySeedResponse> VerifySeed(VerifySeedRequest request, ServerCallContext context)
    {
        var key = Validation.Key(request.ExperimentId, request.Worker, request.Library, request.Stream);
        var check = await auditor.VerifySeedAsync(key, request.Seed, context.CancellationToken);
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

        return response;
    }

    public override async Task ExportManifest(ExportManifestRequest request, IServerStreamWriter<ManifestPart> responseStream, ServerCallContext context)
    {
        await foreach (var item in auditor.ManifestAsync(request.ExperimentId, request.IncludeRuns, context.CancellationToken))
        {
            await responseStream.WriteAsync(ProtoMapper.ToProto(item), context.CancellationToken);
        }
    }

    public override async Task<VerifyLedgerResponse> VerifyLedger(VerifyLedgerRequest request, ServerCallContext context)
    {
        var result = await auditor.VerifyLedgerAsync(request.ExperimentId, context.CancellationToken);
        return new VerifyLedgerResponse
        {
            Ok = result.Ok,
            EventsChecked = result.EventsChecked,
            FirstBrokenSequence = result.FirstBrokenSequence,
            Reason = result.Reason,
            ChainHead = new V1.ChainHead { Sequence = result.Head.Sequence, Hash = result.Head.Hash },
        };
    }

    /// <summary>The key filters ListIssuedSeeds and ListEvents share; an unset optional field is "any".</summary>
    private static KeyFilter Keys(bool hasWorkerMin, uint workerMin, bool hasWorkerMax, uint workerMax, bool hasLibrary, string library, bool hasStream, string stream) =>
        new(hasWorkerMin ? workerMin : null, hasWorkerMax ? workerMax : null, hasLibrary ? library : null, hasStream ? stream : null);
}
