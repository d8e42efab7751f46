namespace SeedDaemon.Daemon.Grpc;

/// <summary>The request bounds the gRPC layer enforces (Seedd:MaxBatchKeys).</summary>
internal sealed record RequestLimits(int MaxBatchKeys);
