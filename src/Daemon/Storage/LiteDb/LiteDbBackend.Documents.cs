using LiteDB;
using SeedDaemon.Daemon.Recording;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>The embedded store's part of the scrub: every document of every collection, checked against its checksum.</summary>
internal sealed partial class LiteDbBackend
{
    private const int DocumentPageSize = 256;

    public IEnumerable<DocumentPage> CheckDocuments(CancellationToken cancellationToken)
    {
        foreach (var collection in new[] { Documents.Experiments, Documents.Keys, Documents.Events, TreeNodeDocuments.Collection, RunDocuments.Processes, FingerprintBlocks.Collection })
        {
            BsonValue after = BsonValue.MinValue;
            var missing = new HashSet<string>(StringComparer.Ordinal);
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
                        if (collection == FingerprintBlocks.Collection)
                        {
                            // Its steps' framing too, not only its checksum.
                            _ = FingerprintBlocks.ToBlock(document);
                        }
                        else if (collection == TreeNodeDocuments.Collection)
                        {
                            // Whole hashes, no more than a tile holds.
                            TreeNodeDocuments.Check(document);
                        }
                        else
                        {
                            DocumentSeal.Verify(document, collection);
                        }

                        if (!Loaded(collection, document["_id"].AsString, missing))
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
    /// ago may still wait for its fsync, so a miss is looked at again a second later, once per owner
    /// (<paramref name="missing"/> holds the owners found missing after that second).
    /// </summary>
    private bool Loaded(string collection, string id, HashSet<string> missing)
    {
        (string Owner, Func<bool> Found) owner = collection switch
        {
            Documents.Experiments => (id, () => _state.Find(id) is not null),
            Documents.Keys or Documents.Events or TreeNodeDocuments.Collection => Documents.ParseId(id).ExperimentId is var experiment ? (experiment, () => _state.Find(experiment) is not null) : default,
            RunDocuments.Processes => RunDocuments.ParseProcessId(id) is var process ? (process.ToString(), () => _state.FindProcess(process) is not null) : default,
            FingerprintBlocks.Collection => FingerprintBlocks.ParseId(id).Key is var process ? (process.ToString(), () => _state.FindProcess(process) is not null) : default,
            _ => ("", () => true),
        };

        if (owner.Found())
        {
            return true;
        }

        if (missing.Contains(owner.Owner))
        {
            return false;
        }

        Thread.Sleep(TimeSpan.FromSeconds(1));
        if (owner.Found())
        {
            return true;
        }

        missing.Add(owner.Owner);
        return false;
    }

    private static string Describe(BsonValue id) => id.IsString ? $"'{id.AsString}'" : id.IsMinValue ? "(the first)" : id.ToString();
}
