using SeedDaemon.V1;

namespace SeedDaemon.Testing;

/// <summary>Every page of an audit listing, followed through next_page_token.</summary>
public static class AuditPages
{
    public static async Task<List<LedgerEvent>> EventsAsync(this AuditService.AuditServiceClient audit, string experimentId, int pageSize = 1000)
    {
        var events = new List<LedgerEvent>();
        var token = "";
        do
        {
            var page = await audit.ListEventsAsync(new ListEventsRequest { ExperimentId = experimentId, PageSize = pageSize, PageToken = token });
            events.AddRange(page.Events);
            token = page.NextPageToken;
        }
        while (token != "");

        return events;
    }

    public static async Task<List<IssuedSeed>> IssuedSeedsAsync(this AuditService.AuditServiceClient audit, string experimentId, int pageSize = 1000)
    {
        var seeds = new List<IssuedSeed>();
        var token = "";
        do
        {
            var page = await audit.ListIssuedSeedsAsync(new ListIssuedSeedsRequest { ExperimentId = experimentId, PageSize = pageSize, PageToken = token });
            seeds.AddRange(page.Seeds);
            token = page.NextPageToken;
        }
        while (token != "");

        return seeds;
    }
}
