using LiteDB;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The stored subtrees of each experiment's ledger tree (collection "tree_nodes"): the roots of its
/// perfect subtrees of 2^8, 2^16, ... events, 256 consecutive ones of a level to a document (a tile),
/// keyed "experiment|level(2 hex) tile(14 hex)"; "h" holds their hashes one after the other. A node
/// is added to its tile in the commit whose event completes it. A proof reads one or two tiles a level
/// (<see cref="TiledTree"/>); the leaves are the events themselves.
/// </summary>
internal static class TreeNodeDocuments
{
    public const string Collection = "tree_nodes";

    /// <summary>Nodes to a document.</summary>
    public const int TileWidth = 256;

    public static string Id(string experimentId, int level, long tile) =>
        Documents.Id(experimentId, ((ulong)level << 56) | (ulong)tile);

    /// <summary>Adds <paramref name="nodes"/> (in index order per level, each tile's next) to their tiles, in the caller's transaction.</summary>
    public static void Write(LiteSession session, string experimentId, IEnumerable<TreeNode> nodes)
    {
        foreach (var tile in nodes.GroupBy(n => (n.Level, Tile: n.Index / TileWidth)))
        {
            var id = Id(experimentId, tile.Key.Level, tile.Key.Tile);
            var existing = session.TreeNodes.FindById(id) is { } document ? Hashes(DocumentSeal.Verify(document, Collection), id) : [];
            var offset = (int)(tile.First().Index % TileWidth);
            if (existing.Length < offset * MerkleTree.HashSize)
            {
                throw DocumentSeal.Damaged(Collection, id, $"it holds {existing.Length / MerkleTree.HashSize} nodes, and node {tile.First().Index} comes next");
            }

            var hashes = new byte[(offset + tile.Count()) * MerkleTree.HashSize];
            existing.AsSpan(0, offset * MerkleTree.HashSize).CopyTo(hashes);
            var at = offset * MerkleTree.HashSize;
            foreach (var node in tile)
            {
                node.Hash.CopyTo(hashes, at);
                at += MerkleTree.HashSize;
            }

            session.TreeNodes.Upsert(DocumentSeal.Seal(new BsonDocument { ["_id"] = id, ["h"] = hashes }));
        }
    }

    /// <summary>The hashes of nodes [<paramref name="start"/>, <paramref name="end"/>) of a level; one its tile does not hold is damage, named.</summary>
    public static List<byte[]> Read(LiteSession session, string experimentId, int level, long start, long end)
    {
        var hashes = new List<byte[]>((int)(end - start));
        for (var tile = start / TileWidth; tile <= (end - 1) / TileWidth; tile++)
        {
            var id = Id(experimentId, level, tile);
            var found = session.TreeNodes.FindById(id);
            var stored = found is null ? [] : Hashes(DocumentSeal.Verify(found, Collection), id);
            for (var index = Math.Max(start, tile * TileWidth); index < Math.Min(end, (tile + 1) * TileWidth); index++)
            {
                var at = (int)(index - (tile * TileWidth)) * MerkleTree.HashSize;
                if (at + MerkleTree.HashSize > stored.Length)
                {
                    throw DocumentSeal.Damaged(Collection, id, $"it is missing node {index} of level {level}");
                }

                hashes.Add(stored[at..(at + MerkleTree.HashSize)]);
            }
        }

        return hashes;
    }

    /// <summary>A tile as the store check reads it: its checksum, and whole hashes, no more than a tile holds.</summary>
    public static void Check(BsonDocument document)
    {
        DocumentSeal.Verify(document, Collection);
        _ = Hashes(document, document["_id"].AsString);
    }

    private static byte[] Hashes(BsonDocument document, string id) =>
        document["_id"].AsString == id && document["h"].AsBinary is { } hashes && hashes.Length % MerkleTree.HashSize == 0 && hashes.Length <= TileWidth * MerkleTree.HashSize
            ? hashes
            : throw DocumentSeal.Damaged(Collection, id, "its index entry leads elsewhere, or its hashes are not whole");
}
