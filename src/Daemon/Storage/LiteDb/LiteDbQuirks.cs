using System.Collections;
using System.Reflection;
using LiteDB;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// Works around a LiteDB 5.0.21 hazard. When a commit fails on an I/O error (disk full), LiteDB
/// closes its engine but leaves the failed transaction undisposed: its finalizer later throws
/// ("discarded page must be writable") on the GC's finalizer thread, which kills the process. Before
/// a failed session is dropped, its transactions' finalizers are suppressed; if LiteDB's internals
/// are not what this code expects, the failed database is kept reachable instead, so it is never
/// finalized (a small leak, once per I/O failure, rather than a crash).
/// </summary>
internal static class LiteDbQuirks
{
    private static readonly List<object> Graveyard = [];

    public static void DefuseFailedTransactions(LiteDatabase database)
    {
        try
        {
            var engine = Field(database, "_engine");
            var monitor = Field(engine, "_monitor");
            if (Field(monitor, "_transactions") is IDictionary transactions)
            {
                foreach (var transaction in transactions.Values)
                {
                    // Deliberately on another object: LiteDB's own Dispose failed before it could do this.
#pragma warning disable CA1816
                    GC.SuppressFinalize(transaction!);
#pragma warning restore CA1816
                }

                return;
            }
        }
        catch (Exception error) when (error is MissingFieldException or TargetException or FieldAccessException)
        {
            // Fall through to the graveyard.
        }

        lock (Graveyard)
        {
            Graveyard.Add(database);
        }
    }

    private static object Field(object owner, string name) =>
        owner.GetType().GetField(name, BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(owner)
        ?? throw new MissingFieldException(owner.GetType().FullName, name);
}
