using LiteDB;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation.Ledger;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// Migrates a file in an earlier layout to <see cref="LiteSession.Layout"/> (6) at open. Layout 2
/// (seedd 1.0: one document per issued key in "seeds", ledger events as BSON arrays) is first
/// rewritten as layout 3 in one transaction: each ledger document in the packed form (same id, same
/// events, same hashes), the issued keys as checkpointed key chunks, every experiment marked with its
/// checkpoint; the old collection is dropped after it. Layout 3 (seedd 1.1 and 1.2) becomes layout 4
/// in one more transaction that seals every document (<see cref="DocumentSeal"/>). Layout 4 (one
/// document per fingerprint) becomes layout 5 in a last transaction that moves every fingerprint into
/// its block of 16 steps (<see cref="FingerprintBlocks"/>) and deletes the step documents. Layout 5
/// becomes layout 6 in one more transaction that grows each experiment's ledger tree over its events
/// (<see cref="GrowTrees"/>: the stored subtrees and the tree's right edge in the experiment document). LiteDB
/// cannot drop a collection or set the layout number inside a transaction, so those follow; each step
/// is idempotent, and a crash between them is finished by the next open (the experiments' checkpoint
/// marks say the first transaction committed; a sealed document is not sealed again; an empty step
/// collection has nothing left to move; an experiment with a tree has grown it). A crash before a commit leaves the file as it was before
/// that step. The chain is unchanged, so every earlier manifest still verifies.
/// </summary>
internal static class LayoutMigration
{
    /// <summary>Whether this seedd migrates a file in <paramref name="layout"/>.</summary>
    public static bool Migrates(int layout) => layout is 2 or 3 or 4 or 5;

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

        if (layout < 5)
        {
            MoveIntoBlocks(session);
            if (database.CollectionExists(FingerprintBlocks.StepCollection))
            {
                database.DropCollection(FingerprintBlocks.StepCollection);
            }
        }

        GrowTrees(session);

        database.UserVersion = LiteSession.Layout;
        session.Checkpoint();
    }

    /// <summary>
    /// Each experiment without a tree gets one over its events in chain order (leaf index = sequence - 1):
    /// its stored subtrees and its right edge, in one transaction. The chain is read as it is: a break in it
    /// (an event missing) stops the migration, naming it, before anything is written.
    /// </summary>
    private static void GrowTrees(LiteSession session)
    {
        var database = session.Database;
        database.BeginTrans();
        try
        {
            foreach (var document in LiteSession.All(session.Experiments).ToList())
            {
                var (record, head, tree, checkpoint) = Documents.ToExperiment(document);
                if (tree is not null)
                {
                    continue;
                }

                tree = new MerkleFrontier();
                var nodes = new List<TreeNode>();
                var leaves = new LedgerLeafHasher();
                foreach (var events in LiteSession.Range(session.Events, Documents.KeyLowerBound(record.Id), Documents.KeyUpperBound(record.Id)))
                {
                    foreach (var stored in LedgerDocuments.ToRecords(events))
                    {
                        if (stored.Entry.Sequence != (ulong)tree.Size + 1)
                        {
                            throw new InvalidDataException($"the ledger of '{record.Id}' jumps from event {tree.Size} to {stored.Entry.Sequence}");
                        }

                        tree.Append(leaves.Hash(stored.Entry), nodes);
                    }

                }

                // Written level by level, in index order: each tile once (a re-run after a crash writes them again).
                TreeNodeDocuments.Write(session, record.Id, nodes.OrderBy(n => n.Level).ThenBy(n => n.Index));

                if ((ulong)tree.Size != head.Sequence)
                {
                    throw new InvalidDataException($"the ledger of '{record.Id}' ends at event {tree.Size} but its experiment record says {head.Sequence}");
                }

                session.Experiments.Update(Documents.ToDocument(record, head, tree, checkpoint));
            }

            database.Commit();
        }
        catch
        {
            database.Rollback();
            throw;
        }
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
    /// Reads what the migration will move, before anything is written: a file whose fingerprints do
    /// not hold together is refused with the migration not started, and left as it was.
    /// </summary>
    public static void Check(LiteSession session) => ReadRows(session, null);

    /// <summary>
    /// Every fingerprint of the step collection (layouts 2 to 4: one document per step, sealed from
    /// layout 4 on) moved into its block, and the step documents deleted, in one transaction.
    /// </summary>
    private static void MoveIntoBlocks(LiteSession session)
    {
        var database = session.Database;
        database.BeginTrans();
        try
        {
            if (ReadRows(session, (key, previous, steps) => session.Fingerprints.Insert(FingerprintBlocks.ToDocument(key, previous, steps))))
            {
                database.GetCollection(FingerprintBlocks.StepCollection).DeleteAll();
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
    /// The step collection read in id order (run, step, worker), a row of blocks (16 steps of every
    /// process of a run) gathered at a time and each process's block handed to <paramref name="write"/>
    /// with the process's step before it. Checked on the way: checksums (layout 4), each step's digests,
    /// the step links (layout 4), and each process read up to its last step. False when there is nothing
    /// to read (none recorded, or a move that committed before a crash).
    /// </summary>
    private static bool ReadRows(LiteSession session, Action<ProcessKey, long, List<StepFingerprint>>? write)
    {
        const int Page = 512;
        var database = session.Database;
        var steps = database.GetCollection(FingerprintBlocks.StepCollection);
        if (!database.CollectionExists(FingerprintBlocks.StepCollection) || steps.Query().Limit(1).FirstOrDefault() is null)
        {
            return false;
        }

        var lastSteps = new Dictionary<ProcessKey, long>();
        var row = new SortedDictionary<uint, List<StepFingerprint>>();
        (string Experiment, string Run, long Block)? rowOf = null;
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
                var packed = document["d"].AsBinary;
                if (!PackedDigests.IsWellFormed(packed))
                {
                    throw DocumentSeal.Damaged(FingerprintBlocks.StepCollection, id, "its digests are cut short or run past it");
                }

                var digests = new PackedDigestList(packed, $"fingerprint document '{id}'");
                var of = (key.ExperimentId, key.RunId, FingerprintBlocks.Of(step));
                if (rowOf != of)
                {
                    EndRow();
                    rowOf = of;
                }

                // Layout 4 links each step to the one before it: a step an index lost is found here, not dropped.
                var before = row.TryGetValue(key.Worker, out var pending) ? pending[^1].Step : lastSteps.GetValueOrDefault(key, -1);
                if (document.TryGetValue("p", out var linked) && linked.AsInt64 != before)
                {
                    throw DocumentSeal.Damaged(FingerprintBlocks.StepCollection, id, $"it follows step {linked.AsInt64} of worker {key.Worker}, and the step read before it was {before}: a fingerprint between them is missing");
                }

                (pending ?? (row[key.Worker] = [])).Add(new StepFingerprint(step, digests));
            }

            after = page[^1]["_id"];
        }

        EndRow();

        // Each process's steps were all read, up to its last (layout 3's process documents are not sealed yet).
        foreach (var document in session.Processes.FindAll())
        {
            if (DocumentSeal.IsSealed(document))
            {
                DocumentSeal.Verify(document, RunDocuments.Processes);
            }

            var (key, last) = (new ProcessKey(document["e"].AsString, document["r"].AsString, (uint)document["w"].AsInt64), document["ls"].AsInt64);
            if (last >= 0 && lastSteps.GetValueOrDefault(key, -1) != last)
            {
                throw DocumentSeal.Damaged(FingerprintBlocks.StepCollection, FingerprintBlocks.Id(key, last), $"it is missing: worker {key.Worker} of run '{key.RunId}' last reported step {last}, and its fingerprints read end at {lastSteps.GetValueOrDefault(key, -1)}");
            }
        }

        return true;

        void EndRow()
        {
            foreach (var (worker, list) in row)
            {
                var key = new ProcessKey(rowOf!.Value.Experiment, rowOf.Value.Run, worker);
                write?.Invoke(key, lastSteps.GetValueOrDefault(key, -1), list);
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

                var (record, head, _, checkpoint) = Documents.ToExperiment(DocumentSeal.Seal(document));
                var entry = keys.Load(record, head, new MerkleFrontier(), checkpoint);
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
