namespace SeedDaemon.Tests.Conformance;

// One behavioural suite, run against both backends: every test of the classes in this folder runs
// once over the embedded LiteDB store and once over PostgreSQL (a real server of the test run's own).
public sealed class ExperimentTestsOnLiteDb(EmbeddedDaemon daemon) : ExperimentTests<EmbeddedDaemon>(daemon);

public sealed class ExperimentTestsOnPostgres(PostgresDaemon daemon) : ExperimentTests<PostgresDaemon>(daemon);

public sealed class SeedIssuanceTestsOnLiteDb(EmbeddedDaemon daemon) : SeedIssuanceTests<EmbeddedDaemon>(daemon);

public sealed class SeedIssuanceTestsOnPostgres(PostgresDaemon daemon) : SeedIssuanceTests<PostgresDaemon>(daemon);

public sealed class AuditTestsOnLiteDb(EmbeddedDaemon daemon) : AuditTests<EmbeddedDaemon>(daemon);

public sealed class AuditTestsOnPostgres(PostgresDaemon daemon) : AuditTests<PostgresDaemon>(daemon);

public sealed class LedgerPagingTestsOnLiteDb(EmbeddedDaemon daemon) : LedgerPagingTests<EmbeddedDaemon>(daemon);

public sealed class LedgerPagingTestsOnPostgres(PostgresDaemon daemon) : LedgerPagingTests<PostgresDaemon>(daemon);

public sealed class RestTestsOnLiteDb(EmbeddedDaemon daemon) : RestTests<EmbeddedDaemon>(daemon);

public sealed class RestTestsOnPostgres(PostgresDaemon daemon) : RestTests<PostgresDaemon>(daemon);

public sealed class StandardServicesTestsOnLiteDb(EmbeddedDaemon daemon) : StandardServicesTests<EmbeddedDaemon>(daemon);

public sealed class StandardServicesTestsOnPostgres(PostgresDaemon daemon) : StandardServicesTests<PostgresDaemon>(daemon);

public sealed class RunRecordTestsOnLiteDb(EmbeddedDaemon daemon) : RunRecordTests<EmbeddedDaemon>(daemon);

public sealed class RunRecordTestsOnPostgres(PostgresDaemon daemon) : RunRecordTests<PostgresDaemon>(daemon);

public sealed class StoreCheckTestsOnLiteDb(EmbeddedDaemon daemon) : StoreCheckTests<EmbeddedDaemon>(daemon);

public sealed class StoreCheckTestsOnPostgres(PostgresDaemon daemon) : StoreCheckTests<PostgresDaemon>(daemon);

public sealed class TransparencyLogTestsOnLiteDb(EmbeddedDaemon daemon) : TransparencyLogTests<EmbeddedDaemon>(daemon);

public sealed class TransparencyLogTestsOnPostgres(PostgresDaemon daemon) : TransparencyLogTests<PostgresDaemon>(daemon);
