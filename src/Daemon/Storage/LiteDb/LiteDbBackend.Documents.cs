using LiteDB;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>The embedded store's part of the scrub: every document of every collection, checked against its checksum.</summary>
internal sealed partial class LiteDbBackend
{
    private const int DocumentPageSize = 256;

    public IEnumerable<DocumentPage> CheckDocuments(CancellationToken cancellationToken)
    {
        foreach (var collection in new[] { Documents.Experiments, Documents.Keys, Documents.Events, RunDocuments.Processes, RunDocuments.Fingerprints })
        {
            BsonValue after = BsonValue.MinValue;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (page, failure) = ReadPage(collection, after);
                if (failure is not null)
                {
                    // LiteDB cannot walk past what it failed to read: the rest of the collection is unchecked.
                    yield return new DocumentPage(collection, 0, [($"collection \"{collection}\" after document {Describe(after)}", $"{failure}; the rest of the collection could not be read")]);
                    break;
                }

                if (page!.Count == 0)
                {
                    break;
                }

                var problems = new List<(string, string)>();
                foreach (var document in page)
                {
                    try
                    {
                        DocumentSeal.Verify(document, collection);
                    }
                    catch (InvalidDataException damaged)
                    {
                        problems.Add(($"collection \"{collection}\", document {Describe(document["_id"])}", damaged.Message));
                    }
                }

                yield return new DocumentPage(collection, page.Count, problems);
                after = page[^1]["_id"];
            }
        }
    }

    private (List<BsonDocument>? Page, string? Failure) ReadPage(string collection, BsonValue after)
    {
        try
        {
            var session = _session ?? throw Down();
            return (session.Database.GetCollection(collection).Query().Where("_id > @0", after).OrderBy("_id").Limit(DocumentPageSize).ToList(), null);
        }
        catch (Exception error) when (error is not (OperationCanceledException or SeedDaemonException or ObjectDisposedException))
        {
            return (null, $"LiteDB failed to read it ({error.Message.TrimEnd('.')})");
        }
    }

    private static string Describe(BsonValue id) => id.IsString ? $"'{id.AsString}'" : id.IsMinValue ? "(the first)" : id.ToString();
}
