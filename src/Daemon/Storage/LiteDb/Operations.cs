using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Derivation.Ledger;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>An operation on one experiment; the in-memory view learns the result once it is durable.</summary>
internal abstract class ExperimentOperation(Action<ExperimentRecord> onDurable) : WriteOperation<ExperimentRecord>
{
    public sealed override void Succeed()
    {
        onDurable(Result);
        base.Succeed();
    }
}

internal sealed class CreateExperimentOperation(ExperimentRecord candidate, bool rootGiven, Action<ExperimentRecord> onDurable)
    : ExperimentOperation(onDurable)
{
    protected override ExperimentRecord Run(LiteSession session)
    {
        var existing = session.Experiment(candidate.Id);
        if (existing is not null)
        {
            var stored = Documents.ToExperiment(existing);
            if (rootGiven && stored.Root != candidate.Root)
            {
                throw new SeedDaemonException(
                    ErrorKind.AlreadyExists,
                    $"Experiment '{candidate.Id}' already exists with a different root; its root never changes. Use another experiment id.",
                    "root");
            }

            return stored;
        }

        session.AddExperiment(Documents.ToDocument(candidate));
        return candidate;
    }
}

internal sealed class FreezeExperimentOperation(string experimentId, Action<ExperimentRecord> onDurable)
    : ExperimentOperation(onDurable)
{
    protected override ExperimentRecord Run(LiteSession session)
    {
        var document = session.Experiment(experimentId) ?? throw SeedDaemonException.ExperimentNotFound(experimentId);
        if (!document["frozen"].AsBoolean)
        {
            document["frozen"] = true;
            session.ExperimentChanged(experimentId);
        }

        return Documents.ToExperiment(document);
    }
}

internal sealed class RecordIssuesOperation(IReadOnlyList<SeedIssue> issues, RequestOrigin origin)
    : WriteOperation<IReadOnlyList<SeedRecord>>
{
    protected override IReadOnlyList<SeedRecord> Run(LiteSession session)
    {
        var seeds = session.Seeds;
        var ids = new string[issues.Count];

        // Checks first: nothing is written unless every key may be issued.
        for (var i = 0; i < issues.Count; i++)
        {
            var issue = issues[i];
            ids[i] = Documents.SeedId(issue.ExperimentId, issue.Worker, issue.Library, issue.Stream);
            var experiment = session.Experiment(issue.ExperimentId) ?? throw SeedDaemonException.ExperimentNotFound(issue.ExperimentId);
            if (experiment["frozen"].AsBoolean && seeds.FindById(ids[i]) is null)
            {
                throw new SeedDaemonException(
                    ErrorKind.FailedPrecondition,
                    $"Experiment '{issue.ExperimentId}' is frozen: key (worker {issue.Worker}, library '{issue.Library}', stream '{issue.Stream}') was never issued and no new keys are issued. Keys already issued still answer.");
            }
        }

        var now = Documents.ToUnixMilliseconds(DateTime.UtcNow);
        var records = new SeedRecord[issues.Count];
        for (var i = 0; i < issues.Count; i++)
        {
            var issue = issues[i];
            var document = seeds.FindById(ids[i]);
            if (document is null)
            {
                document = Documents.NewSeed(ids[i], issue, now, origin.Requester);
                seeds.Insert(document);
            }
            else
            {
                if (unchecked((ulong)document["v"].AsInt64) != issue.Seed64)
                {
                    throw new InvalidDataException($"Stored seed for {ids[i]} differs from its derivation: the database is damaged or was written by another scheme.");
                }

                document["n"] = document["n"].AsInt64 + 1;
                seeds.Update(document);
            }

            records[i] = Documents.ToSeed(document);
            AppendEvent(session, issue, now);
        }

        return records;
    }

    /// <summary>Appends the issue's event to its experiment's chain; the head lives in the experiment document the batch shares.</summary>
    private void AppendEvent(LiteSession session, SeedIssue issue, long now)
    {
        var experiment = session.Experiment(issue.ExperimentId)!;
        var head = Documents.HeadOf(experiment);
        var entry = new LedgerEntry(
            issue.ExperimentId, head.Sequence + 1, now, issue.Worker, issue.Library, issue.Stream, issue.Seed64,
            origin.Principal, origin.Peer, origin.ClientHost, origin.ClientPid, origin.ClientLabels);
        var hash = LedgerHash.ToHex(LedgerHash.Compute(LedgerHash.FromHex(head.Hash), entry));
        session.Events.Insert(Documents.ToDocument(entry, head.Hash, hash));
        experiment["seq"] = unchecked((long)entry.Sequence);
        experiment["head"] = hash;
        session.ExperimentChanged(issue.ExperimentId);
    }
}
