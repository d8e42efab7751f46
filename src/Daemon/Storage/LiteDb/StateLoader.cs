using LiteDB;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// Rebuilds the <see cref="MemoryState"/> from a file: every experiment with its chain head, its
/// checkpointed key chunks, then the ledger events after the checkpoint replayed onto them (a key's
/// first event is its first issue, each event one more issue). The replay must end exactly at the
/// head the experiment document holds; anything else is a damaged file.
/// </summary>
internal static class StateLoader
{
    public static MemoryState Load(LiteSession session)
    {
        var state = new MemoryState(session);
        try
        {
            foreach (var document in LiteSession.All(session.Processes))
            {
                state.LoadProcess(RunDocuments.ToProcess(document));
            }

            foreach (var document in LiteSession.All(session.Experiments))
            {
                var (record, head, tree, checkpoint) = Documents.ToExperiment(document);
                var entry = state.Load(record, head, tree ?? throw DocumentSeal.Damaged(Documents.Experiments, record.Id, "it has no ledger tree"), checkpoint);
                var chunks = session.Keys.Count(LiteDB.Query.Between("_id", Documents.KeyLowerBound(record.Id), Documents.KeyUpperBound(record.Id)));
                entry.Keys.EnsureCapacity(chunks * KeyProjection.ChunkSize);
                foreach (var chunk in LiteSession.Range(session.Keys, Documents.KeyLowerBound(record.Id), Documents.KeyUpperBound(record.Id)))
                {
                    KeyChunkDocuments.Load(chunk, state, entry);
                }

                entry.Keys.MarkClean();
                ReplayTail(session, state, entry);
            }

            return state;
        }
        catch
        {
            state.Dispose();
            throw;
        }
    }

    private static void ReplayTail(LiteSession session, MemoryState state, ExperimentEntry entry)
    {
        var id = entry.Record.Id;
        var next = entry.CheckpointSequence + 1;
        foreach (var document in session.EventsFrom(id, next))
        {
            var stored = LedgerDocuments.Read(document);
            for (var i = 0; i < stored.Count; i++)
            {
                var sequence = stored.FirstSequence + (ulong)i;
                if (sequence < next)
                {
                    continue;
                }

                if (sequence != next)
                {
                    throw new InvalidDataException($"the ledger of '{id}' jumps from event {next - 1} to {sequence}");
                }

                var e = stored.Event(i);
                var (library, stream) = stored.Columns[e.Column];
                state.Replay(entry, e.Worker, library, stream, e.Seed64, stored.Time(e.Run), stored.Requester(e.Run));
                next++;
            }
        }

        if (next - 1 != entry.HeadSequence)
        {
            throw new InvalidDataException($"the ledger of '{id}' ends at event {next - 1} but its experiment record says {entry.HeadSequence}");
        }
    }
}
