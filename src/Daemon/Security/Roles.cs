namespace SeedDaemon.Daemon.Security;

/// <summary>What each role may call. The health service and reflection stay open.</summary>
internal static class Roles
{
    public const string Issuer = "issuer";
    public const string Auditor = "auditor";
    public const string Admin = "admin";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Issuer, Auditor, Admin };

    private static readonly string[] Anyone = [Issuer, Auditor, Admin];
    private static readonly string[] Issuers = [Issuer, Admin];
    private static readonly string[] Auditors = [Auditor, Admin];
    private static readonly string[] Admins = [Admin];

    // The resume check: a training process (issuer) reads the fingerprint its original run recorded.
    private static readonly string[] IssuersAndAuditors = [Issuer, Auditor, Admin];

    /// <summary>The roles allowed to call <paramref name="method"/> ("/package.Service/Method"); null when the method is open.</summary>
    public static IReadOnlyList<string>? Allowed(string method) => method switch
    {
        _ when method.StartsWith("/grpc.health.v1.Health/", StringComparison.Ordinal) => null,
        _ when method.StartsWith("/grpc.reflection.", StringComparison.Ordinal) => null,
        "/seeddaemon.v1.SeedService/GetSeed" or "/seeddaemon.v1.SeedService/BatchGetSeeds" => Issuers,
        "/seeddaemon.v1.SeedService/GetExperiment" or "/seeddaemon.v1.SeedService/ListExperiments" => Anyone,

        // The verifier key is public, and a training process (issuer) keeps its run's signed checkpoint.
        "/seeddaemon.v1.AuditService/GetLedgerKey" or "/seeddaemon.v1.AuditService/GetCheckpoint" => Anyone,
        _ when method.StartsWith("/seeddaemon.v1.AuditService/", StringComparison.Ordinal) => Auditors,
        "/seeddaemon.v1.RunService/RecordProcess" or "/seeddaemon.v1.RunService/ReportFingerprints" => Issuers,
        "/seeddaemon.v1.RunService/GetFingerprint" => IssuersAndAuditors,
        "/seeddaemon.v1.RunService/ListRuns" or "/seeddaemon.v1.RunService/GetRun" or "/seeddaemon.v1.RunService/StreamFingerprints" => Auditors,
        _ => Admins,
    };
}
