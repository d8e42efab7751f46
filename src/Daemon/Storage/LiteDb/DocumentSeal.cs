using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using LiteDB;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// LiteDB does not check what it reads back: a flipped bit in a page is served as if it were whole.
/// So every document seedd writes carries its own checksum ("x": XXH3-64 of its fields in ordinal
/// order, "x" left out: <see cref="Checksum"/>), and every document seedd reads is checked against
/// it before a field of it is used. A mismatch, or a document without its checksum, is a
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

    /// <summary>
    /// XXH3-64 over the document's fields in ordinal order (<see cref="Field"/> left out), each its
    /// name and its value: a type byte, then the value (integers and doubles as 8 little-endian
    /// bytes, 4 for an int32; strings as UTF-8 and binaries as bytes, each after its length; arrays
    /// as their count and values; documents likewise). Fed to the hash as it goes: nothing is
    /// serialized or copied, which a read of a large key chunk would otherwise pay for.
    /// </summary>
    private static ulong Checksum(BsonDocument document)
    {
        var hash = new XxHash3();
        AppendDocument(hash, document, Field);
        return hash.GetCurrentHashAsUInt64();
    }

    private static void AppendDocument(XxHash3 hash, BsonDocument document, string? leaveOut)
    {
        var names = document.Keys.Where(k => k != leaveOut).ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        AppendLength(hash, names.Length);
        foreach (var name in names)
        {
            AppendString(hash, name);
            AppendValue(hash, document[name]);
        }
    }

    private static void AppendValue(XxHash3 hash, BsonValue value)
    {
        Span<byte> scalar = stackalloc byte[9];
        scalar[0] = (byte)value.Type;
        switch (value.Type)
        {
            case BsonType.Int32:
                BinaryPrimitives.WriteInt32LittleEndian(scalar[1..], value.AsInt32);
                hash.Append(scalar[..5]);
                break;
            case BsonType.Int64:
                BinaryPrimitives.WriteInt64LittleEndian(scalar[1..], value.AsInt64);
                hash.Append(scalar);
                break;
            case BsonType.Double:
                BinaryPrimitives.WriteDoubleLittleEndian(scalar[1..], value.AsDouble);
                hash.Append(scalar);
                break;
            case BsonType.Boolean:
                scalar[1] = value.AsBoolean ? (byte)1 : (byte)0;
                hash.Append(scalar[..2]);
                break;
            case BsonType.String:
                hash.Append(scalar[..1]);
                AppendString(hash, value.AsString);
                break;
            case BsonType.Binary:
                hash.Append(scalar[..1]);
                AppendLength(hash, value.AsBinary.Length);
                hash.Append(value.AsBinary);
                break;
            case BsonType.Array:
                hash.Append(scalar[..1]);
                AppendLength(hash, value.AsArray.Count);
                foreach (var item in value.AsArray)
                {
                    AppendValue(hash, item);
                }

                break;
            case BsonType.Document:
                hash.Append(scalar[..1]);
                AppendDocument(hash, value.AsDocument, null);
                break;
            case BsonType.Null or BsonType.MinValue or BsonType.MaxValue:
                hash.Append(scalar[..1]);
                break;
            default:
                // A type seedd never writes (a damaged type byte): its serialized form, so it still hashes to something.
                hash.Append(scalar[..1]);
                AppendString(hash, JsonSerializer.Serialize(value));
                break;
        }
    }

    private static void AppendString(XxHash3 hash, string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        AppendLength(hash, length);
        var rented = length > 256 ? ArrayPool<byte>.Shared.Rent(length) : null;
        var bytes = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
        Encoding.UTF8.GetBytes(text, bytes);
        hash.Append(bytes);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void AppendLength(XxHash3 hash, int length)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, length);
        hash.Append(bytes);
    }

    private static string IdOf(BsonDocument document) =>
        document.TryGetValue("_id", out var id) && id.IsString ? id.AsString : "(no readable id)";

    /// <summary>A stored document that is not what seedd wrote: damaged on disk.</summary>
    public static InvalidDataException Damaged(string collection, string id, string why) =>
        new($"document '{id}' of collection \"{collection}\" is damaged: {why}");
}
