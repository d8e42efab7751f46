using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SeedDaemon.Daemon.Audit;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.V1;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>seeddaemon.v1.AdminService: backups and checks of the store.</summary>
internal sealed class AdminGrpcService(ISeedStore store, StoreScrub scrub, ScrubOptions scrubOptions) : AdminService.AdminServiceBase
{
    public override async Task<Backup> CreateBackup(CreateBackupRequest request, ServerCallContext context)
    {
        Validation.BackupPath(request.Path);
        var backup = await store.BackupAsync(request.Path, context.CancellationToken);
        return new Backup
        {
            Path = backup.Path,
            SizeBytes = backup.Bytes,
            Experiments = backup.Experiments,
            IssuedSeeds = backup.Seeds,
            CompleteTime = Timestamp.FromDateTime(backup.CompletedTime),
        };
    }

    public override async Task CheckStore(CheckStoreRequest request, IServerStreamWriter<CheckStoreUpdate> responseStream, ServerCallContext context)
    {
        if (request.ExperimentId.Length > 0)
        {
            Validation.ExperimentId(request.ExperimentId);
        }

        if (request.DutyPercent is < 0 or > 100)
        {
            throw SeedDaemonException.Invalid("duty_percent", $"duty_percent is {request.DutyPercent}; it must be 1 to 100, or 0 for the daemon's Seedd:Scrub:DutyPercent ({scrubOptions.DutyPercent}).");
        }

        var summary = await scrub.RunAsync(
            request.ExperimentId.Length > 0 ? request.ExperimentId : null,
            request.DutyPercent > 0 ? request.DutyPercent : scrubOptions.DutyPercent,
            async update => await responseStream.WriteAsync(update switch
            {
                ScrubUpdate.Progress p => new CheckStoreUpdate { Progress = new StoreCheckProgress { Read = Counts(p.Counts), ExperimentId = p.Experiment, ExperimentsDone = p.ExperimentsDone, ExperimentsTotal = p.ExperimentsTotal } },
                ScrubUpdate.Finding f => new CheckStoreUpdate { Finding = new StoreCheckFinding { ExperimentId = f.Experiment, Where = f.Where, Problem = f.Problem } },
                _ => throw new InvalidOperationException($"unknown scrub update {update}"),
            }),
            context.CancellationToken);
        await responseStream.WriteAsync(new CheckStoreUpdate
        {
            Summary = new StoreCheckSummary { Ok = summary.Findings == 0, Findings = summary.Findings, Read = Counts(summary.Counts), Elapsed = Duration.FromTimeSpan(summary.Elapsed) },
        });
    }

    private static StoreCheckCounts Counts(ScrubCounts counts) => new()
    {
        Documents = counts.Documents,
        Experiments = counts.Experiments,
        Events = counts.Events,
        Seeds = counts.Seeds,
        Fingerprints = counts.Fingerprints,
    };
}
