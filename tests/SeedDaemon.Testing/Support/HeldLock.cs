using Npgsql;

namespace SeedDaemon.Testing;

/// <summary>
/// A lock taken in a transaction of the test's own (a row <c>FOR UPDATE</c>, a <c>LOCK TABLE</c>):
/// seedd's transactions that need it wait, until the test releases it (commits) or disposes it.
/// </summary>
public sealed class HeldLock : IAsyncDisposable
{
    private HeldLock(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        Connection = connection;
        Transaction = transaction;
    }

    public NpgsqlConnection Connection { get; }

    public NpgsqlTransaction Transaction { get; }

    /// <summary>Opens a connection, begins a transaction and runs <paramref name="sql"/> in it.</summary>
    public static async Task<HeldLock> TakeAsync(PostgresCluster cluster, string database, string sql)
    {
        var connection = new NpgsqlConnection(cluster.ConnectionString(database));
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new HeldLock(connection, transaction);
    }

    public Task ReleaseAsync() => Transaction.CommitAsync();

    public async ValueTask DisposeAsync()
    {
        await Transaction.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
