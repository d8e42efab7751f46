using Microsoft.Extensions.Logging;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>Creates, reads, lists and freezes experiments.</summary>
internal sealed class ExperimentRegistry(ISeedStore store, ILogger<ExperimentRegistry> logger)
{
    public async Task<ExperimentRecord> CreateAsync(string experimentId, string rootText, IReadOnlyDictionary<string, string> labels, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        if (!Validation.IsNameableInPaths(experimentId) && await store.Reader.FindExperimentAsync(experimentId, cancellationToken) is null)
        {
            // Only a new one: an experiment made before the rule is created again (its workers' seed_everything(root=...)) as before.
            throw Validation.NotNameableInPaths(experimentId);
        }
        var rootGiven = !string.IsNullOrEmpty(rootText);
        UInt128 root;
        if (rootGiven)
        {
            if (!Root.TryParse(rootText, out root))
            {
                throw SeedDaemonException.Invalid("root", $"root '{Validation.Printable(rootText)}' must be a decimal integer from 0 to 2^128 - 1 (digits only), or empty to have the daemon draw one.");
            }
        }
        else
        {
            // Drawn before we know whether the experiment exists; an existing experiment keeps its root.
            root = Root.Generate();
        }

        Validation.Labels(labels);
        var candidate = new ExperimentRecord(
            experimentId,
            root,
            RootGenerated: !rootGiven,
            SeedSeqV1.Scheme,
            TruncateToMilliseconds(DateTime.UtcNow),
            Frozen: false,
            new Dictionary<string, string>(labels, StringComparer.Ordinal));

        var stored = await store.CreateExperimentAsync(candidate, rootGiven, cancellationToken);
        if (ReferenceEquals(stored, candidate))
        {
            IssuanceLog.ExperimentCreated(logger, experimentId, candidate.RootGenerated);
        }

        return stored;
    }

    public async Task<ExperimentRecord> GetAsync(string experimentId, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        return await store.Reader.FindExperimentAsync(experimentId, cancellationToken) ?? throw SeedDaemonException.ExperimentNotFound(experimentId);
    }

    public async Task<(IReadOnlyList<ExperimentRecord> Experiments, string NextPageToken)> ListAsync(int pageSize, string? pageToken, CancellationToken cancellationToken)
    {
        var limit = Validation.PageSize(pageSize);
        var after = PageToken.Decode(pageToken);
        var page = await store.Reader.ListExperimentsAsync(after, limit + 1, cancellationToken);
        if (page.Count <= limit)
        {
            return (page, "");
        }

        var items = page.Take(limit).ToList();
        return (items, PageToken.Encode(items[^1].Id));
    }

    public async Task<ExperimentRecord> FreezeAsync(string experimentId, CancellationToken cancellationToken)
    {
        Validation.ExperimentId(experimentId);
        var frozen = await store.FreezeExperimentAsync(experimentId, cancellationToken);
        IssuanceLog.ExperimentFrozen(logger, experimentId);
        return frozen;
    }

    private static DateTime TruncateToMilliseconds(DateTime utc) =>
        new(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
}
