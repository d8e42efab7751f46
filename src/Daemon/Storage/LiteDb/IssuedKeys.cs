using System.Diagnostics;
using LiteDB;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The hash of every issued-seed key in the file, so that a key never issued skips the index lookup
/// (half of the writer's time for a new key) and goes straight to its insert. It answers "maybe
/// issued" or "certainly new": it must hold every key in the file, and a hash of a key that is not
/// there (another key's collision, or an insert whose batch then failed) only costs the lookup it
/// would have done anyway. Loaded in the background when the session opens (about a second per
/// million keys here), so start-up does not wait; until then every key is looked up. About 16 bytes
/// of memory a key. Only the writer thread asks and adds.
/// </summary>
internal sealed class IssuedKeys : IDisposable
{
    private const int CollectAfter = 100_000;

    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loading;
    private HashSet<int>? _hashes;
    private List<int>? _addedWhileLoading = [];

    private IssuedKeys(LiteDatabase database, Action<int, TimeSpan> loaded, Action<Exception> failed)
    {
        _loading = Task.Run(() => Load(database, loaded, failed));
    }

    /// <summary>Starts loading the keys of <paramref name="database"/>; the callbacks report the outcome.</summary>
    public static IssuedKeys StartLoading(LiteDatabase database, Action<int, TimeSpan> loaded, Action<Exception> failed) =>
        new(database, loaded, failed);

    /// <summary>False when <paramref name="seedId"/> is certainly not in the file.</summary>
    public bool MayContain(string seedId) => Volatile.Read(ref _hashes) is not { } hashes || hashes.Contains(Hash(seedId));

    /// <summary>Called for every key the writer inserts, before its commit (never undone: see the class remarks).</summary>
    public void Add(string seedId)
    {
        lock (_gate)
        {
            if (_hashes is { } hashes)
            {
                hashes.Add(Hash(seedId));
            }
            else
            {
                _addedWhileLoading?.Add(Hash(seedId));
            }
        }
    }

    /// <summary>Stops a load still running (at its next key) and waits for it.</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _loading.Wait();
        _stop.Dispose();
    }

    private void Load(LiteDatabase database, Action<int, TimeSpan> loaded, Action<Exception> failed)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var hashes = new HashSet<int>();
            var keys = 0;
            using (var reader = database.Execute($"SELECT $._id FROM {Documents.Seeds}"))
            {
                while (reader.Read())
                {
                    _stop.Token.ThrowIfCancellationRequested();
                    hashes.Add(Hash(reader.Current["_id"].AsString));
                    keys++;
                }
            }

            lock (_gate)
            {
                // Keys inserted since the load began may be missing from what it read.
                hashes.UnionWith(_addedWhileLoading!);
                _addedWhileLoading = null;
                Volatile.Write(ref _hashes, hashes);
            }

            if (keys >= CollectAfter)
            {
                // Reading a million keys leaves as many dead documents behind; give their memory back now.
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            }

            loaded(keys, Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException)
        {
            // The session closed first.
        }
        catch (Exception error)
        {
            // Every key keeps being looked up: slower, never wrong.
            lock (_gate)
            {
                _addedWhileLoading = null;
            }

            failed(error);
        }
    }

    private static int Hash(string seedId) => StringComparer.Ordinal.GetHashCode(seedId);
}
