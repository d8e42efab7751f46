using System.IO.Hashing;
using LiteDB;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// LiteDB does not check what it reads back: a flipped bit in a page is served as if it were whole.
/// So every document seedd writes carries its own checksum ("x": XXH3-64 of the document's BSON with
/// its fields in ordinal order, "x" left out), and every document seedd reads is checked against it
/// before a field of it is used. A mismatch, or a document without its checksum, is a
/// <see cref="InvalidDataException"/> naming the collection and the document (<see cref="Damaged"/>).
/// </summary>
internal static class DocumentSeal
{
    public const string Field = "x";

    /// <summary>Adds the checksum to a document about to be written; returns it.</summary>
    public static BsonDocument Seal(BsonDocument document)
    {
        document[Field] = unchecked((long)Checksum(document));
        return document;
    }

    /// <summary>Checks a document read from <paramref name="collection"/>; returns it.</summary>
    public static BsonDocument Verify(BsonDocument document, string collection)
    {
        if (!document.TryGetValue(Field, out var stored) || !stored.IsInt64)
        {
            throw Damaged(collection, IdOf(document), "it has no checksum");
        }

        if (unchecked((ulong)stored.AsInt64) != Checksum(document))
        {
            throw Damaged(collection, IdOf(document), "it does not match its checksum");
        }

        return document;
    }

    /// <summary>Whether a document carries a checksum (layout 4 and later).</summary>
    public static bool IsSealed(BsonDocument document) => document.ContainsKey(Field);

    private static ulong Checksum(BsonDocument document)
    {
        var canonical = new BsonDocument();
        foreach (var name in document.Keys.Where(k => k != Field).Order(StringComparer.Ordinal))
        {
            canonical[name] = document[name];
        }

        return XxHash3.HashToUInt64(BsonSerializer.Serialize(canonical));
    }

    private static string IdOf(BsonDocument document) =>
        document.TryGetValue("_id", out var id) && id.IsString ? id.AsString : "(no readable id)";

    /// <summary>A stored document that is not what seedd wrote: damaged on disk.</summary>
    public static InvalidDataException Damaged(string collection, string id, string why) =>
        new($"document '{id}' of collection \"{collection}\" is damaged: {why}");
}
