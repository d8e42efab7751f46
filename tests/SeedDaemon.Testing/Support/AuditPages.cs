using SeedDaemon.V1;

namespace SeedDaemon.Testing;

/// <summary>Every page of an audit listing, followed through next_page_token.</summary>
public static class AuditPages
{
    public static Task<List<LedgerEvent>> EventsAsync(this AuditService.AuditServiceClient audit, string experimentId, int pageSize = 1000) =>
        AllAsync<LedgerEvent>(async token =>
        {
            var page = await audit.ListEventsAsync(new ListEventsRequest { ExperimentId = experimentId, PageSize = pageSize, PageToken = token });
            return (page.Events, page.NextPageToken);
        });

    public static Task<List<IssuedSeed>> IssuedSeedsAsync(this AuditService.AuditServiceClient audit, string experimentId, int pageSize = 1000) =>
        AllAsync<IssuedSeed>(async token =>
        {
            var page = await audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = experimentId, PageSize = pageSize, PageToken = token });
            return (page.Seeds, page.NextPageToken);
        });

    private static async Task<List<T>> AllAsync<T>(Func<string, Task<(IEnumerable<T> Items, string Next)>> page)
    {
        var all = new List<T>();
        var token = "";
        do
        {
            var (items, next) = await page(token);
            all.AddRange(items);
            token = next;
        }
        while (token != "");

        return all;
    }
}
