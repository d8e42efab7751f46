using SeedDaemon.Derivation.Ledger;

namespace SeedDaemon.Daemon.Recording;

/// <summary>A stored ledger event with its place in the chain.</summary>
internal sealed record LedgerRecord(LedgerEntry Entry, string PreviousHash, string Hash);

/// <summary>The last event of an experiment's chain (sequence 0 and the genesis hash when there is none).</summary>
internal readonly record struct ChainHead(ulong Sequence, string Hash)
{
    public static ChainHead Genesis { get; } = new(0, LedgerHash.ToHex(LedgerHash.Genesis));
}

/// <summary>
/// Who asked, as recorded with every event: the authenticated principal (empty when anonymous),
/// the peer address, and what the client says about itself.
/// </summary>
internal sealed record RequestOrigin(string Principal, string Peer, string ClientHost, long ClientPid, IReadOnlyDictionary<string, string> ClientLabels)
{
    public static RequestOrigin Anonymous(string peer) => new("", peer, "", 0, new Dictionary<string, string>());

    /// <summary>What "first requester" shows: the principal when there is one, else the peer.</summary>
    public string Requester => Principal.Length > 0 ? Principal : Peer;
}
