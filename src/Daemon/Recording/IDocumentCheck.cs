namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// A backend whose stored documents check themselves (the embedded store's checksums): the scrub
/// reads every one of them, a page at a time, for what the answers alone would not show (a damaged
/// key checkpoint behind keys already in memory, a document no answer reads).
/// </summary>
internal interface IDocumentCheck
{
    IEnumerable<DocumentPage> CheckDocuments(CancellationToken cancellationToken);
}

/// <summary>One page of documents read: how many, and what was wrong with any of them (where: collection and document id).</summary>
internal sealed record DocumentPage(string Collection, int Read, IReadOnlyList<(string Where, string Problem)> Problems);
