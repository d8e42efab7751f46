using System.Globalization;
using LiteDB;
using SeedDaemon.Derivation.Ledger;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The ledger as stored: one document per request and experiment (at most
/// <see cref="MaxEventsPerDocument"/> events), keyed "experiment|first sequence(16 hex)". What all
/// events of a request share (time, who asked, the hash before the first) is stored once; each event
/// keeps its key, seed and own hash, so verification still names the exact event that was altered.
/// Ordinal order of the keys is chain order within an experiment.
/// </summary>
internal static class LedgerDocuments
{
    /// <summary>Bounds what one event read has to load (a document of this many events is ~25 KB).</summary>
    public const int MaxEventsPerDocument = 256;

    /// <summary>"experiment|first sequence(16 hex)": ordinal order is chain order within an experiment.</summary>
    public static string Id(string experimentId, ulong firstSequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{experimentId}{Documents.Separator}{firstSequence:x16}");

    private static (string ExperimentId, ulong FirstSequence) ParseId(string id)
    {
        var separator = id.LastIndexOf(Documents.Separator);
        return (id[..separator], ulong.Parse(id.AsSpan(separator + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
    }

    /// <summary>The events of one request for one experiment, while they are appended to its chain.</summary>
    public sealed class Builder(string experimentId, ChainHead head, long time, RequestOrigin origin)
    {
        private readonly ulong _first = head.Sequence + 1;
        private readonly byte[] _previous = LedgerHash.FromHex(head.Hash);
        private readonly BsonArray _events = [];
        private byte[]? _last;

        public int Count => _events.Count;

        public bool IsFull => _events.Count == MaxEventsPerDocument;

        /// <summary>The head after the events added so far.</summary>
        public ChainHead Head => new(_first + (ulong)_events.Count - 1, LedgerHash.ToHex(_last ?? _previous));

        public void Add(SeedIssue issue)
        {
            var entry = new LedgerEntry(
                experimentId, _first + (ulong)_events.Count, time, issue.Worker, issue.Library, issue.Stream, issue.Seed64,
                origin.Principal, origin.Peer, origin.ClientHost, origin.ClientPid, origin.ClientLabels);
            _last = LedgerHash.Compute(_last ?? _previous, entry);
            _events.Add(new BsonArray
            {
                unchecked((int)issue.Worker),
                issue.Library,
                issue.Stream,
                unchecked((long)issue.Seed64),
                _last,
            });
        }

        public BsonDocument ToDocument() => new()
        {
            ["_id"] = Id(experimentId, _first),
            ["t"] = time,
            ["p"] = origin.Principal,
            ["a"] = origin.Peer,
            ["h"] = origin.ClientHost,
            ["i"] = origin.ClientPid,
            ["cl"] = Documents.ToPairs(origin.ClientLabels),
            ["prev"] = _previous,
            ["k"] = _events,
        };
    }

    /// <summary>The events of one stored document, in chain order, each with its previous hash.</summary>
    public static IEnumerable<LedgerRecord> ToEvents(BsonDocument document)
    {
        var (experimentId, first) = ParseId(document["_id"].AsString);
        var time = document["t"].AsInt64;
        var principal = document["p"].AsString;
        var peer = document["a"].AsString;
        var host = document["h"].AsString;
        var pid = document["i"].AsInt64;
        var labels = Documents.FromPairs(document["cl"].AsArray);
        var previous = LedgerHash.ToHex(document["prev"].AsBinary);
        var events = document["k"].AsArray;
        for (var i = 0; i < events.Count; i++)
        {
            var fields = events[i].AsArray;
            var entry = new LedgerEntry(
                experimentId, first + (ulong)i, time, unchecked((uint)fields[0].AsInt32), fields[1].AsString, fields[2].AsString,
                unchecked((ulong)fields[3].AsInt64), principal, peer, host, pid, labels);
            var hash = LedgerHash.ToHex(fields[4].AsBinary);
            yield return new LedgerRecord(entry, previous, hash);
            previous = hash;
        }
    }
}
