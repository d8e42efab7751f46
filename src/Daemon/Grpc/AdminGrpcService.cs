using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.V1;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>seeddaemon.v1.AdminService: backups of the store.</summary>
internal sealed class AdminGrpcService(ISeedStore store) : AdminService.AdminServiceBase
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
}
