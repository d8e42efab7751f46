using System.Buffers.Binary;
using LiteDB;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation.Ledger;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The ledger as stored (collection "events"): one document per experiment per group commit (split
/// every <see cref="MaxEventsPerDocument"/> events), keyed "experiment|first sequence(16 hex)" so that
/// ordinal order is chain order. A document holds the hash before its first event ("prev"), once each
/// the requests its events came from ("o": time, principal, peer, client host, pid, labels) and the
/// columns they use ("c": library, stream), then the events packed as fixed-size binary records
/// ("e"): request index u16, column index u16, worker u32, seed64 u64 (little-endian) and the event's
/// own 32-byte hash, so verification still names the exact event that was altered.
/// </summary>
internal static class LedgerDocuments
{
    public const int MaxEventsPerDocument = 1024;
    public const int EventSize = 48;

    public static IEnumerable<BsonDocument> ToDocuments(ChainAppend append)
    {
        for (var start = 0; start < append.Events.Count; start += MaxEventsPerDocument)
        {
            var count = Math.Min(MaxEventsPerDocument, append.Events.Count - start);
            var runs = new Dictionary<int, int>();
            var columns = new Dictionary<(string, string), int>();
            var runArray = new BsonArray();
            var columnArray = new BsonArray();
            var packed = new byte[count * EventSize];
            for (var i = 0; i < count; i++)
            {
                var e = append.Events[start + i];
                if (!runs.TryGetValue(e.Run, out var run))
                {
                    runs[e.Run] = run = runArray.Count;
                    var origin = append.Runs[e.Run];
                    runArray.Add(new BsonArray { origin.TimeUnixMs, origin.Origin.Principal, origin.Origin.Peer, origin.Origin.ClientHost, origin.Origin.ClientPid, Documents.ToPairs(origin.Origin.ClientLabels) });
                }

                if (!columns.TryGetValue((e.Library, e.Stream), out var column))
                {
                    columns[(e.Library, e.Stream)] = column = columnArray.Count;
                    columnArray.Add(new BsonArray { e.Library, e.Stream });
                }

                var slot = packed.AsSpan(i * EventSize, EventSize);
                BinaryPrimitives.WriteUInt16LittleEndian(slot, (ushort)run);
                BinaryPrimitives.WriteUInt16LittleEndian(slot[2..], (ushort)column);
                BinaryPrimitives.WriteUInt32LittleEndian(slot[4..], e.Worker);
                BinaryPrimitives.WriteUInt64LittleEndian(slot[8..], e.Seed64);
                e.Hash.CopyTo(slot[16..]);
            }

            yield return DocumentSeal.Seal(new BsonDocument
            {
                ["_id"] = Documents.Id(append.ExperimentId, append.Events[start].Sequence),
                ["prev"] = append.PreviousHash(start),
                ["o"] = runArray,
                ["c"] = columnArray,
                ["e"] = packed,
            });
        }
    }

    /// <summary>The events of one stored document from sequence <paramref name="from"/> on (the first when lower), in chain order, each with its previous hash.</summary>
    public static IEnumerable<LedgerRecord> ToRecords(BsonDocument document, ulong from = 0)
    {
        var stored = Read(document);
        var runs = stored.Runs.Select(r => (Time: r[0].AsInt64, Principal: r[1].AsString, Peer: r[2].AsString, Host: r[3].AsString, Pid: r[4].AsInt64, Labels: Documents.FromPairs(r[5].AsArray))).ToList();
        var skip = from > stored.FirstSequence ? (int)Math.Min((ulong)stored.Count, from - stored.FirstSequence) : 0;
        var previous = LedgerHash.ToHex(skip == 0 ? stored.Previous : stored.Event(skip - 1).Hash.Span);
        for (var i = skip; i < stored.Count; i++)
        {
            var e = stored.Event(i);
            var run = runs[e.Run];
            var (library, stream) = stored.Columns[e.Column];
            var entry = new LedgerEntry(stored.ExperimentId, stored.FirstSequence + (ulong)i, run.Time, e.Worker, library, stream, e.Seed64, run.Principal, run.Peer, run.Host, run.Pid, run.Labels);
            var hash = LedgerHash.ToHex(e.Hash.Span);
            yield return new LedgerRecord(entry, previous, hash);
            previous = hash;
        }
    }

    /// <summary>The leaf hashes (seedd-ledger-v2) of a document's events [<paramref name="from"/>, <paramref name="to"/>), added to <paramref name="leaves"/>: one hasher per request.</summary>
    public static void LeafHashes(Stored stored, int from, int to, List<byte[]> leaves)
    {
        var hashers = new LedgerEventHasher?[stored.Runs.Length];
        for (var i = from; i < to; i++)
        {
            var e = stored.Event(i);
            var run = stored.Runs[e.Run];
            var hasher = hashers[e.Run] ??= new LedgerEventHasher(stored.ExperimentId, run[0].AsInt64, run[1].AsString, run[2].AsString, run[3].AsString, run[4].AsInt64, Documents.FromPairs(run[5].AsArray));
            var (library, stream) = stored.Columns[e.Column];
            var leaf = new byte[LedgerHash.HashSize];
            hasher.LeafHash(e.Worker, library, stream, e.Seed64, leaf);
            leaves.Add(leaf);
        }
    }

    /// <summary>A stored document, parsed just enough to walk its events.</summary>
    public static Stored Read(BsonDocument document)
    {
        DocumentSeal.Verify(document, Documents.Events);
        var (experimentId, first) = Documents.ParseId(document["_id"].AsString);
        var packed = document["e"].AsBinary;
        if (packed.Length % EventSize != 0 || document["prev"].AsBinary.Length != LedgerHash.HashSize)
        {
            throw new InvalidDataException($"ledger document '{document["_id"].AsString}' is damaged");
        }

        var columns = document["c"].AsArray.Select(c => (c.AsArray[0].AsString, c.AsArray[1].AsString)).ToArray();
        return new Stored(experimentId, first, document["prev"].AsBinary, [.. document["o"].AsArray.Select(r => r.AsArray)], columns, packed);
    }

    public sealed class Stored(string experimentId, ulong firstSequence, byte[] previous, BsonArray[] runs, (string Library, string Stream)[] columns, byte[] packed)
    {
        public string ExperimentId { get; } = experimentId;

        public ulong FirstSequence { get; } = firstSequence;

        public byte[] Previous { get; } = previous;

        public BsonArray[] Runs { get; } = runs;

        public (string Library, string Stream)[] Columns { get; } = columns;

        public int Count => packed.Length / EventSize;

        public Event Event(int index)
        {
            var slot = packed.AsSpan(index * EventSize, EventSize);
            var run = BinaryPrimitives.ReadUInt16LittleEndian(slot);
            var column = BinaryPrimitives.ReadUInt16LittleEndian(slot[2..]);
            if (run >= Runs.Length || column >= Columns.Length)
            {
                throw new InvalidDataException($"event {FirstSequence + (ulong)index} of '{ExperimentId}' refers to a request or column its document does not have: the file is damaged");
            }

            return new Event(run, column, BinaryPrimitives.ReadUInt32LittleEndian(slot[4..]), BinaryPrimitives.ReadUInt64LittleEndian(slot[8..]), packed.AsMemory((index * EventSize) + 16, LedgerHash.HashSize));
        }

        /// <summary>The requester (principal, else peer) of a run, as "first requester" shows it.</summary>
        public string Requester(int run) => Runs[run][1].AsString is { Length: > 0 } principal ? principal : Runs[run][2].AsString;

        public long Time(int run) => Runs[run][0].AsInt64;
    }

    public readonly record struct Event(int Run, int Column, uint Worker, ulong Seed64, ReadOnlyMemory<byte> Hash);
}
