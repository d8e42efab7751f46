using Npgsql;

namespace SeedDaemon.Daemon.Storage.Postgres;

/// <summary>
/// The tables, created and migrated at start. Many replicas may start at the same moment: the
/// version row of <c>seedd_schema</c> is locked (SELECT ... FOR UPDATE) for the whole migration,
/// which runs in one transaction; the others wait and then find the schema current. A schema newer than this seedd
/// knows is refused by name.
/// </summary>
internal static class PostgresSchema
{
    public const int Version = 4;

    /// <summary>Migration N takes the schema from version N - 1 to N.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE seedd_experiments (
            id text COLLATE "C" PRIMARY KEY,
            root text NOT NULL,
            root_generated boolean NOT NULL,
            scheme text NOT NULL,
            create_time_ms bigint NOT NULL,
            frozen boolean NOT NULL,
            labels jsonb NOT NULL,
            head_sequence bigint NOT NULL,
            head_hash bytea NOT NULL
        );
        CREATE TABLE seedd_issued_seeds (
            experiment_id text COLLATE "C" NOT NULL,
            worker bigint NOT NULL,
            library text COLLATE "C" NOT NULL,
            stream text COLLATE "C" NOT NULL,
            seed64 bigint NOT NULL,
            first_issue_ms bigint NOT NULL,
            first_requester text NOT NULL,
            issue_count bigint NOT NULL,
            PRIMARY KEY (experiment_id, worker, library, stream)
        );
        CREATE TABLE seedd_ledger_events (
            experiment_id text COLLATE "C" NOT NULL,
            sequence bigint NOT NULL,
            time_ms bigint NOT NULL,
            worker bigint NOT NULL,
            library text NOT NULL,
            stream text NOT NULL,
            seed64 bigint NOT NULL,
            principal text NOT NULL,
            peer text NOT NULL,
            client_host text NOT NULL,
            client_pid bigint NOT NULL,
            client_labels jsonb NOT NULL,
            prev_hash bytea NOT NULL,
            hash bytea NOT NULL,
            PRIMARY KEY (experiment_id, sequence)
        );
        """,
        PostgresRuns.Schema,
        PostgresTrees.Schema,
        PostgresSequencer.Schema,
    ];

    /// <summary>Creates or migrates the schema; returns the version found before (0 for a new database).</summary>
    public static int Ensure(NpgsqlDataSource dataSource, string verifierKey)
    {
        using var connection = dataSource.OpenConnection();
        CreateVersionTable(connection);
        using var transaction = connection.BeginTransaction();
        using (var seed = new NpgsqlCommand("INSERT INTO seedd_schema (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING", connection, transaction))
        {
            seed.ExecuteNonQuery();
        }

        int found;
        using (var read = new NpgsqlCommand("SELECT version FROM seedd_schema WHERE id = 1 FOR UPDATE", connection, transaction))
        {
            found = (int)read.ExecuteScalar()!;
        }

        if (found > Version)
        {
            throw new SchemaTooNewException(found);
        }

        for (var version = found + 1; version <= Version; version++)
        {
            using var migrate = new NpgsqlCommand(Migrations[version - 1], connection, transaction);
            migrate.ExecuteNonQuery();
            if (version == PostgresTrees.Version)
            {
                PostgresTrees.GrowAll(connection, transaction);
            }
        }

        using (var record = new NpgsqlCommand("UPDATE seedd_schema SET version = @version, updated_at = now() WHERE id = 1", connection, transaction))
        {
            record.Parameters.AddWithValue("version", Version);
            record.ExecuteNonQuery();
        }

        PostgresTrees.CheckKey(connection, transaction, verifierKey);

        transaction.Commit();
        return found;
    }

    /// <summary>CREATE TABLE IF NOT EXISTS races with itself across sessions (a duplicate catalog entry): the loser retries and finds it.</summary>
    private static void CreateVersionTable(NpgsqlConnection connection)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var create = new NpgsqlCommand("CREATE TABLE IF NOT EXISTS seedd_schema (id integer PRIMARY KEY, version integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())", connection);
                create.ExecuteNonQuery();
                return;
            }
            catch (PostgresException error) when (error.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable && attempt < 5)
            {
                Thread.Sleep(50 * attempt);
            }
        }
    }
}

/// <summary>The database holds a schema from a newer seedd.</summary>
internal sealed class SchemaTooNewException(int found)
    : Exception($"the database holds seedd schema version {found}, newer than this seedd knows ({PostgresSchema.Version}): it was migrated by a newer seedd. Run that version (or newer) against it.")
{
    public int Found { get; } = found;
}
