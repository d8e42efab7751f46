using LiteDB;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// Migrates a file in layout 2 (seedd 1.0: one document per issued key in "seeds", ledger events as
/// BSON arrays) to layout 3 at open, in one transaction: each ledger document is rewritten in the
/// packed form (same id, same events, same hashes), the issued keys become checkpointed key chunks,
/// "seeds" is dropped. A crash during it leaves the file in layout 2; the chain is unchanged, so
/// every earlier manifest still verifies.
/// </summary>
internal static class LayoutMigration
{
    public const int FromLayout = 2;

    public static void Run(LiteSession session)
    {
        var database = session.Database;
        database.BeginTrans();
        try
        {
            var seeds = database.GetCollection("seeds");
            using var keys = new MemoryState();
            foreach (var document in session.Experiments.FindAll().ToList())
            {
                var id = document["_id"].AsString;
                var sequence = document.TryGetValue("seq", out var seq) ? seq.AsInt64 : 0;
                document["seq"] = sequence;
                document["head"] = sequence > 0 ? document["head"].AsString : ChainHead.Genesis.Hash;
                document["cp"] = sequence;
                foreach (var events in LiteSession.Range(session.Events, Documents.KeyLowerBound(id), Documents.KeyUpperBound(id)).ToList())
                {
                    session.Events.Update(Packed(events));
                }

                var (record, head, checkpoint) = Documents.ToExperiment(document);
                var entry = keys.Load(record, head, checkpoint);
                foreach (var seed in LiteSession.Range(seeds, Documents.KeyLowerBound(id), Documents.KeyUpperBound(id)))
                {
                    var parts = seed["_id"].AsString.Split(Documents.Separator);
                    var worker = Convert.ToUInt32(parts[1], 16);
                    keys.LoadKey(entry, worker, keys.Columns.GetOrAdd(parts[2], parts[3]), unchecked((ulong)seed["v"].AsInt64), seed["t"].AsInt64, seed["r"].AsString, (ulong)seed["n"].AsInt64);
                }

                for (var chunk = 0; chunk < entry.Keys.ChunkCount; chunk++)
                {
                    session.Keys.Insert(KeyChunkDocuments.ToDocument(entry, chunk, keys.Columns, keys.Requesters));
                }

                session.Experiments.Update(document);
            }

            database.DropCollection("seeds");
            database.UserVersion = LiteSession.Layout;
            database.Commit();
        }
        catch
        {
            database.Rollback();
            throw;
        }

        database.Checkpoint();
    }

    /// <summary>A layout-2 ledger document ({t, p, a, h, i, cl, prev, k: [[worker, library, stream, seed64, hash]]}) in layout 3.</summary>
    private static BsonDocument Packed(BsonDocument old)
    {
        var (experimentId, first) = Documents.ParseId(old["_id"].AsString);
        var origin = new RequestOrigin(old["p"].AsString, old["a"].AsString, old["h"].AsString, old["i"].AsInt64, Documents.FromPairs(old["cl"].AsArray));
        var append = new ChainAppend(experimentId, new ChainHead(first - 1, ""), old["prev"].AsBinary);
        append.Runs.Add(new EventRun(old["t"].AsInt64, origin));
        var sequence = first;
        foreach (var e in old["k"].AsArray.Select(k => k.AsArray))
        {
            append.Events.Add(new PreparedEvent(sequence++, 0, unchecked((uint)e[0].AsInt32), e[1].AsString, e[2].AsString, unchecked((ulong)e[3].AsInt64), e[4].AsBinary));
        }

        return LedgerDocuments.ToDocuments(append).Single();
    }
}
