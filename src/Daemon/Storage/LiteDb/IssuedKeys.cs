using LiteDB;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The hash of every issued-seed key in the file, so that a key never issued skips the index lookup
/// (half of the writer's time for a new key) and goes straight to its insert. It answers "maybe
/// issued" or "certainly new": it must hold every key in the file, and a hash of a key that is not
/// there (another key's collision, or an insert whose batch then failed) only costs the lookup it
/// would have done anyway. Loaded when the session opens (about 0.3 s per million keys), grown by
/// the writer.
/// </summary>
internal sealed class IssuedKeys
{
    private readonly HashSet<int> _hashes;

    private IssuedKeys(HashSet<int> hashes) => _hashes = hashes;

    public int Count => _hashes.Count;

    public static IssuedKeys Load(LiteDatabase database)
    {
        var hashes = new HashSet<int>();
        using (var reader = database.Execute($"SELECT $._id FROM {Documents.Seeds}"))
        {
            while (reader.Read())
            {
                hashes.Add(Hash(reader.Current["_id"].AsString));
            }
        }

        return new IssuedKeys(hashes);
    }

    /// <summary>False when <paramref name="seedId"/> is certainly not in the file.</summary>
    public bool MayContain(string seedId) => _hashes.Contains(Hash(seedId));

    /// <summary>Called for every key the writer inserts, before its commit (never undone: see the class remarks).</summary>
    public void Add(string seedId) => _hashes.Add(Hash(seedId));

    private static int Hash(string seedId) => StringComparer.Ordinal.GetHashCode(seedId);
}
