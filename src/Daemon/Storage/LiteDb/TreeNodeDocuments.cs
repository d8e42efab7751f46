using LiteDB;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The stored subtrees of each experiment's ledger tree (collection "tree_nodes"): the root of every
/// perfect subtree of 2^8, 2^16, ... events, written in the commit whose event completes it, keyed
/// "experiment|level(2 hex) index(14 hex)" so that ordinal order is (level, index) order. A proof
/// reads a few short id ranges of them (<see cref="TiledTree"/>); the leaves are the events themselves.
/// </summary>
internal static class TreeNodeDocuments
{
    public const string Collection = "tree_nodes";

    public static string Id(string experimentId, int level, long index) =>
        Documents.Id(experimentId, ((ulong)level << 56) | (ulong)index);

    public static BsonDocument ToDocument(string experimentId, TreeNode node) => DocumentSeal.Seal(new BsonDocument
    {
        ["_id"] = Id(experimentId, node.Level, node.Index),
        ["h"] = node.Hash,
    });

    /// <summary>The hashes of nodes [<paramref name="start"/>, <paramref name="end"/>) of a level, each where its id says.</summary>
    public static List<byte[]> Read(LiteSession session, string experimentId, int level, long start, long end)
    {
        var hashes = new List<byte[]>((int)(end - start));
        var lower = Id(experimentId, level, start);
        foreach (var document in LiteSession.Range(session.TreeNodes, lower, Id(experimentId, level, end - 1)))
        {
            DocumentSeal.Verify(document, Collection);
            var expected = Id(experimentId, level, start + hashes.Count);
            var hash = document["h"].AsBinary;
            if (document["_id"].AsString != expected || hash is not { Length: MerkleTree.HashSize })
            {
                throw DocumentSeal.Damaged(Collection, expected, "it is missing or damaged");
            }

            hashes.Add(hash);
        }

        return hashes.Count == end - start ? hashes
            : throw DocumentSeal.Damaged(Collection, Id(experimentId, level, start + hashes.Count), "it is missing");
    }
}
