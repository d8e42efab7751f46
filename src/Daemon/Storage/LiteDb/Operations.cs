using LiteDB;
using SeedDaemon.Daemon.Issuance;

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
            if (experiment["frozen"].AsBoolean && Find(session, ids[i]) is null)
            {
                throw new SeedDaemonException(
                    ErrorKind.FailedPrecondition,
                    $"Experiment '{issue.ExperimentId}' is frozen: key (worker {issue.Worker}, library '{issue.Library}', stream '{issue.Stream}') was never issued and no new keys are issued. Keys already issued still answer.");
            }
        }

        var now = Documents.ToUnixMilliseconds(DateTime.UtcNow);
        var records = new SeedRecord[issues.Count];
        var ledgers = new Dictionary<string, LedgerDocuments.Builder>(StringComparer.Ordinal);
        for (var i = 0; i < issues.Count; i++)
        {
            var issue = issues[i];
            var document = Find(session, ids[i]);
            if (document is null)
            {
                document = Documents.NewSeed(ids[i], issue, now, origin.Requester);
                seeds.Insert(document);
                session.IssuedKeys.Add(ids[i]);
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

            records[i] = Documents.ToSeed(issue, document);
            AppendEvent(session, ledgers, issue, now);
        }

        foreach (var (experimentId, ledger) in ledgers)
        {
            WriteLedger(session, experimentId, ledger);
        }

        return records;
    }

    /// <summary>The key's record; a key certainly never issued is not looked up.</summary>
    private static BsonDocument? Find(LiteSession session, string id) =>
        session.IssuedKeys.MayContain(id) ? session.Seeds.FindById(id) : null;

    /// <summary>
    /// Appends the issue's event to its experiment's chain: to this request's ledger document for the
    /// experiment, written once full or at the end of the request.
    /// </summary>
    private void AppendEvent(LiteSession session, Dictionary<string, LedgerDocuments.Builder> ledgers, SeedIssue issue, long now)
    {
        if (!ledgers.TryGetValue(issue.ExperimentId, out var ledger))
        {
            var head = Documents.HeadOf(session.Experiment(issue.ExperimentId)!);
            ledgers[issue.ExperimentId] = ledger = new LedgerDocuments.Builder(issue.ExperimentId, head, now, origin);
        }

        ledger.Add(issue);
        if (ledger.IsFull)
        {
            WriteLedger(session, issue.ExperimentId, ledger);
            ledgers.Remove(issue.ExperimentId);
        }
    }

    /// <summary>Inserts the ledger document and moves the chain head, kept in the experiment document the batch shares.</summary>
    private static void WriteLedger(LiteSession session, string experimentId, LedgerDocuments.Builder ledger)
    {
        session.Events.Insert(ledger.ToDocument());
        var head = ledger.Head;
        var experiment = session.Experiment(experimentId)!;
        experiment["seq"] = unchecked((long)head.Sequence);
        experiment["head"] = head.Hash;
        session.ExperimentChanged(experimentId);
    }
}
