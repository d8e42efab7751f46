using System.Buffers.Binary;
using LiteDB;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The checkpoint of an experiment's issued keys (collection "keys"): the <see cref="KeyProjection"/>
/// in chunks of <see cref="KeyProjection.ChunkSize"/> keys in insertion order, keyed
/// "experiment|chunk(16 hex)". A chunk holds the columns ("c": library, stream) and first requesters
/// ("q") its keys use, once each, then the keys packed as fixed-size little-endian records ("r"):
/// worker u32, column index u16, requester index u32, seed64 u64, first issue (Unix ms) i64, issue
/// count u64. "seq" is the ledger sequence the chunk was written at. Only chunks that changed are
/// rewritten; the experiment document's "cp" says up to which event all of them are complete.
/// </summary>
internal static class KeyChunkDocuments
{
    public const int RecordSize = 34;

    public static BsonDocument ToDocument(ExperimentEntry entry, int chunk, InternTable<(string Library, string Stream)> columns, InternTable<string> requesters)
    {
        var records = entry.Keys.Chunk(chunk);
        var columnIndex = new Dictionary<int, int>();
        var requesterIndex = new Dictionary<int, int>();
        var columnArray = new BsonArray();
        var requesterArray = new BsonArray();
        var packed = new byte[records.Length * RecordSize];
        for (var i = 0; i < records.Length; i++)
        {
            ref readonly var record = ref records[i];
            if (!columnIndex.TryGetValue(record.Column, out var column))
            {
                columnIndex[record.Column] = column = columnArray.Count;
                var (library, stream) = columns[record.Column];
                columnArray.Add(new BsonArray { library, stream });
            }

            if (!requesterIndex.TryGetValue(record.FirstRequester, out var requester))
            {
                requesterIndex[record.FirstRequester] = requester = requesterArray.Count;
                requesterArray.Add(requesters[record.FirstRequester]);
            }

            var slot = packed.AsSpan(i * RecordSize, RecordSize);
            BinaryPrimitives.WriteUInt32LittleEndian(slot, record.Worker);
            BinaryPrimitives.WriteUInt16LittleEndian(slot[4..], (ushort)column);
            BinaryPrimitives.WriteUInt32LittleEndian(slot[6..], (uint)requester);
            BinaryPrimitives.WriteUInt64LittleEndian(slot[10..], record.Seed64);
            BinaryPrimitives.WriteInt64LittleEndian(slot[18..], record.FirstIssueUnixMs);
            BinaryPrimitives.WriteUInt64LittleEndian(slot[26..], record.IssueCount);
        }

        return DocumentSeal.Seal(new BsonDocument
        {
            ["_id"] = Documents.Id(entry.Record.Id, (ulong)chunk),
            ["seq"] = unchecked((long)entry.HeadSequence),
            ["c"] = columnArray,
            ["q"] = requesterArray,
            ["r"] = packed,
        });
    }

    /// <summary>Adds a stored chunk's keys to the experiment; chunks must come in order, each full but the last.</summary>
    public static void Load(BsonDocument document, MemoryState state, ExperimentEntry entry)
    {
        DocumentSeal.Verify(document, Documents.Keys);
        var (_, chunk) = Documents.ParseId(document["_id"].AsString);
        var packed = document["r"].AsBinary;
        if (chunk != (ulong)entry.Keys.ChunkCount || entry.Keys.Count != entry.Keys.ChunkCount * KeyProjection.ChunkSize
            || packed.Length % RecordSize != 0 || packed.Length / RecordSize is 0 or > KeyProjection.ChunkSize)
        {
            throw new InvalidDataException($"key chunk '{document["_id"].AsString}' is missing, out of place or damaged");
        }

        var columns = document["c"].AsArray.Select(c => state.Columns.GetOrAdd((c.AsArray[0].AsString, c.AsArray[1].AsString))).ToArray();
        var requesters = document["q"].AsArray.Select(q => q.AsString).ToArray();
        for (var offset = 0; offset < packed.Length; offset += RecordSize)
        {
            var slot = packed.AsSpan(offset, RecordSize);
            state.LoadKey(
                entry,
                BinaryPrimitives.ReadUInt32LittleEndian(slot),
                columns[BinaryPrimitives.ReadUInt16LittleEndian(slot[4..])],
                BinaryPrimitives.ReadUInt64LittleEndian(slot[10..]),
                BinaryPrimitives.ReadInt64LittleEndian(slot[18..]),
                requesters[BinaryPrimitives.ReadUInt32LittleEndian(slot[6..])],
                BinaryPrimitives.ReadUInt64LittleEndian(slot[26..]));
        }
    }
}
