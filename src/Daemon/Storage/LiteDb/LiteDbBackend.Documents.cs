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
                        if (!Loaded(collection, document["_id"].AsString))
                        {
                            problems.Add(($"collection \"{collection}\", document {Describe(document["_id"])}", "seedd did not load what it belongs to at start (a damaged index lost it): it is not served"));
                        }
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
            return (Read($"collection \"{collection}\"", session => session.Database.GetCollection(collection).Query().Where("_id > @0", after).OrderBy("_id").Limit(DocumentPageSize).ToList()), null);
        }
        catch (SeedDaemonException error)
        {
            return (null, $"it could not be read ({error.Message.TrimEnd('.')})");
        }
    }

    /// <summary>
    /// Whether the experiment or process a document belongs to is in memory; one committed a moment
    /// ago may still wait for its fsync, so a miss is looked at again a second later.
    /// </summary>
    private bool Loaded(string collection, string id)
    {
        bool Found() => collection switch
        {
            Documents.Experiments => _state.Find(id) is not null,
            Documents.Keys or Documents.Events => _state.Find(Documents.ParseId(id).ExperimentId) is not null,
            RunDocuments.Processes => _state.FindProcess(RunDocuments.ParseProcessId(id)) is not null,
            RunDocuments.Fingerprints => _state.FindProcess(RunDocuments.ParseFingerprintId(id).Key) is not null,
            _ => true,
        };

        if (Found())
        {
            return true;
        }

        Thread.Sleep(TimeSpan.FromSeconds(1));
        return Found();
    }

    private static string Describe(BsonValue id) => id.IsString ? $"'{id.AsString}'" : id.IsMinValue ? "(the first)" : id.ToString();
}
