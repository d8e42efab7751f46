using Google.Protobuf;
using Grpc.Core;
using SeedDaemon.Daemon.Audit;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Transparency;
using SeedDaemon.Derivation;
using SeedDaemon.V1;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>seeddaemon.v1.AuditService: read-only questions about what was issued, and ledger proofs.</summary>
internal sealed class AuditGrpcService(SeedIssuer issuer, LedgerAuditor auditor, LedgerProofs proofs, CheckpointSigner signer) : AuditService.AuditServiceBase
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

    public override Task<LedgerKey> GetLedgerKey(GetLedgerKeyRequest request, ServerCallContext context) =>
        Task.FromResult(new LedgerKey { VerifierKey = signer.VerifierKey, OriginPrefix = signer.OriginPrefix });

    public override async Task<SignedCheckpoint> GetCheckpoint(GetCheckpointRequest request, ServerCallContext context) =>
        ToProto(await proofs.CheckpointAsync(request.ExperimentId, request.TreeSize, context.CancellationToken));

    public override async Task<InclusionProof> ProveInclusion(ProveInclusionRequest request, ServerCallContext context)
    {
        var key = request.EntryCase == ProveInclusionRequest.EntryOneofCase.Key
            ? Validation.Key(request.ExperimentId, request.Key.Worker, request.Key.Library, request.Key.Stream)
            : (SeedDaemon.Daemon.Recording.SeedKey?)null;
        long? index = request.EntryCase == ProveInclusionRequest.EntryOneofCase.LeafIndex ? request.LeafIndex : null;
        var proof = await proofs.ProveInclusionAsync(request.ExperimentId, index, key, request.TreeSize, context.CancellationToken);
        var response = new InclusionProof
        {
            Entry = ByteString.CopyFrom(proof.Entry),
            LeafIndex = proof.Index,
            TreeSize = proof.Checkpoint.Size,
            Checkpoint = proof.Checkpoint.Note,
        };
        response.AuditPath.AddRange(proof.AuditPath.Select(ByteString.CopyFrom));
        return response;
    }

    public override async Task<ConsistencyProof> ProveConsistency(ProveConsistencyRequest request, ServerCallContext context)
    {
        var proof = await proofs.ProveConsistencyAsync(request.ExperimentId, request.OldSize, request.NewSize, context.CancellationToken);
        var response = new ConsistencyProof { OldSize = proof.OldSize, NewSize = proof.Checkpoint.Size, Checkpoint = proof.Checkpoint.Note };
        response.Proof.AddRange(proof.Proof.Select(ByteString.CopyFrom));
        return response;
    }

    private static SignedCheckpoint ToProto(SignedTreeHead head) =>
        new() { Note = head.Note, TreeSize = head.Size, RootHash = ByteString.CopyFrom(head.Root) };

    /// <summary>The key filters ListIssuedSeeds and ListEvents share; an unset optional field is "any".</summary>
    private static KeyFilter Keys(bool hasWorkerMin, uint workerMin, bool hasWorkerMax, uint workerMax, bool hasLibrary, string library, bool hasStream, string stream) =>
        new(hasWorkerMin ? workerMin : null, hasWorkerMax ? workerMax : null, hasLibrary ? library : null, hasStream ? stream : null);
}
