using LiteDB;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// Migrates a file in an earlier layout to <see cref="LiteSession.Layout"/> (5) at open. Layout 2
/// (seedd 1.0: one document per issued key in "seeds", ledger events as BSON arrays) is first
/// rewritten as layout 3 in one transaction: each ledger document in the packed form (same id, same
/// events, same hashes), the issued keys as checkpointed key chunks, every experiment marked with its
/// checkpoint; the old collection is dropped after it. Layout 3 (seedd 1.1 and 1.2) becomes layout 4
/// in one more transaction that seals every document (<see cref="DocumentSeal"/>). Layout 4 (one
/// document per fingerprint) becomes layout 5 in a last transaction that moves every fingerprint into
/// its block of 16 steps (<see cref="FingerprintBlocks"/>) and deletes the step documents. LiteDB
/// cannot drop a collection or set the layout number inside a transaction, so those follow; each step
/// is idempotent, and a crash between them is finished by the next open (the experiments' checkpoint
/// marks say the first transaction committed; a sealed document is not sealed again; an empty step
/// collection has nothing left to move). A crash before a commit leaves the file as it was before
/// that step. The chain is unchanged, so every earlier manifest still verifies.
/// </summary>
internal static class LayoutMigration
{
    /// <summary>Whether this seedd migrates a file in <paramref name="layout"/>.</summary>
    public static bool Migrates(int layout) => layout is 2 or 3 or 4;

    public static void Run(LiteSession session, int layout)
    {
        var database = session.Database;
        if (layout == 2)
        {
            if (session.Experiments.FindAll().Any(e => !e.ContainsKey("cp")))
            {
                Rewrite(session);
            }

            if (database.CollectionExists("seeds"))
            {
                database.DropCollection("seeds");
            }
        }

        if (layout < 4)
        {
            SealAll(session);
        }

        MoveIntoBlocks(session);
        if (database.CollectionExists(FingerprintBlocks.StepCollection))
        {
            database.DropCollection(FingerprintBlocks.StepCollection);
        }

        database.UserVersion = LiteSession.Layout;
        session.Checkpoint();
    }

    /// <summary>Every document without its checksum gets one, in one transaction.</summary>
    private static void SealAll(LiteSession session)
    {
        const int Page = 512;
        var database = session.Database;
        database.BeginTrans();
        try
        {
            foreach (var collection in new[] { session.Experiments, session.Events, session.Keys, session.Processes })
            {
                BsonValue after = BsonValue.MinValue;
                while (collection.Query().Where("_id > @0", after).OrderBy("_id").Limit(Page).ToList() is { Count: > 0 } page)
                {
                    foreach (var document in page)
                    {
                        if (!DocumentSeal.IsSealed(document))
                        {
                            collection.Update(DocumentSeal.Seal(document));
                        }
                    }

                    after = page[^1]["_id"];
                }
            }

            database.Commit();
        }
        catch
        {
            database.Rollback();
            throw;
        }
    }

    /// <summary>
    /// Every fingerprint of the step collection (layouts 2 to 4: one document per step, sealed from
    /// layout 4 on) moved into its block, in one transaction. Read in id order (run, step, worker), a
    /// row of blocks (16 steps of every process of a run) is gathered and written before the next.
    /// </summary>
    private static void MoveIntoBlocks(LiteSession session)
    {
        const int Page = 512;
        var database = session.Database;
        if (!database.CollectionExists(FingerprintBlocks.StepCollection))
        {
            return;
        }

        var steps = database.GetCollection(FingerprintBlocks.StepCollection);
        var lastSteps = new Dictionary<ProcessKey, long>();
        var row = new SortedDictionary<uint, List<StepFingerprint>>();
        (string Experiment, string Run, long Block)? rowOf = null;
        database.BeginTrans();
        try
        {
            BsonValue after = BsonValue.MinValue;
            while (steps.Query().Where("_id > @0", after).OrderBy("_id").Limit(Page).ToList() is { Count: > 0 } page)
            {
                foreach (var document in page)
                {
                    var id = document["_id"].AsString;
                    if (DocumentSeal.IsSealed(document))
                    {
                        DocumentSeal.Verify(document, FingerprintBlocks.StepCollection);
                    }

                    var (key, step) = FingerprintBlocks.ParseId(id);
                    var digests = new PackedDigestList(document["d"].AsBinary, $"fingerprint document '{id}'");
                    _ = digests.Count;
                    var of = (key.ExperimentId, key.RunId, FingerprintBlocks.Of(step));
                    if (rowOf != of)
                    {
                        WriteRow();
                        rowOf = of;
                    }

                    (row.TryGetValue(key.Worker, out var list) ? list : row[key.Worker] = []).Add(new StepFingerprint(step, digests));
                }

                after = page[^1]["_id"];
            }

            WriteRow();
            steps.DeleteAll();
            database.Commit();
        }
        catch
        {
            database.Rollback();
            throw;
        }

        void WriteRow()
        {
            foreach (var (worker, list) in row)
            {
                var key = new ProcessKey(rowOf!.Value.Experiment, rowOf.Value.Run, worker);
                session.Fingerprints.Insert(FingerprintBlocks.ToDocument(key, lastSteps.GetValueOrDefault(key, -1), list));
                lastSteps[key] = list[^1].Step;
            }

            row.Clear();
        }
    }

    /// <summary>Layout 2's documents as layout 3's (sealed), in one transaction.</summary>
    private static void Rewrite(LiteSession session)
    {
        var database = session.Database;
        database.BeginTrans();
        try
        {
            var seeds = database.GetCollection("seeds");
            using var keys = new MemoryState(session);
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

                var (record, head, checkpoint) = Documents.ToExperiment(DocumentSeal.Seal(document));
                var entry = keys.Load(record, head, checkpoint);
                foreach (var seed in LiteSession.Range(seeds, Documents.KeyLowerBound(id), Documents.KeyUpperBound(id)))
                {
                    var parts = seed["_id"].AsString.Split(Documents.Separator);
                    var worker = Convert.ToUInt32(parts[1], 16);
                    keys.LoadKey(entry, worker, keys.Columns.GetOrAdd((parts[2], parts[3])), unchecked((ulong)seed["v"].AsInt64), seed["t"].AsInt64, seed["r"].AsString, (ulong)seed["n"].AsInt64);
                }

                for (var chunk = 0; chunk < entry.Keys.ChunkCount; chunk++)
                {
                    session.Keys.Insert(KeyChunkDocuments.ToDocument(entry, chunk, keys.Columns, keys.Requesters));
                }

                session.Experiments.Update(document);
            }

            database.Commit();
        }
        catch
        {
            database.Rollback();
            throw;
        }
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
