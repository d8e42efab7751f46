namespace SeedDaemon.Daemon.Recording;

/// <summary>
/// The rules for runs, in the same batches as seeds (so a report is durable under the same contract):
/// <list type="bullet">
/// <item>a process's first record is kept: a later one (a restarted process) answers it unchanged;</item>
/// <item>a step above the process's last is recorded; a step at or below it that was recorded with the
/// same digests is a repeat (a report sent again) and changes nothing; with other digests it is a
/// conflict: the first is kept and the conflict is counted (and the first few listed) on the process;</item>
/// <item>a step below the last that was never recorded goes backwards: the whole report is refused.</item>
/// </list>
/// Reports for a frozen experiment are accepted: a reproduction runs after freezing.
/// </summary>
internal static partial class BatchPlanner
{
    /// <summary>The processes a batch records or reports for, each once.</summary>
    public static IReadOnlyList<ProcessKey> ProcessesOf(IReadOnlyList<StoreOperation> operations) =>
        operations.Select(o => o switch
            {
                RecordProcessOperation process => process.Candidate.Key,
                ReportFingerprintsOperation report => report.Process,
                _ => (ProcessKey?)null,
            })
            .OfType<ProcessKey>()
            .Distinct()
            .ToList();

    /// <summary>The (process, step) pairs a batch reports: whose recorded fingerprints a repeat is compared with.</summary>
    public static IReadOnlyList<(ProcessKey Process, long Step)> StepsOf(IReadOnlyList<StoreOperation> operations) =>
        operations.OfType<ReportFingerprintsOperation>()
            .SelectMany(r => r.Steps.Select(s => (r.Process, s.Step)))
            .Distinct()
            .ToList();

    private sealed partial class Planning
    {
        public ProcessRecord RecordProcess(RecordProcessOperation operation)
        {
            var candidate = operation.Candidate;
            _ = Find(candidate.Key.ExperimentId) ?? throw SeedDaemonException.ExperimentNotFound(candidate.Key.ExperimentId);
            if (Process(candidate.Key) is { } existing)
            {
                if (existing.Environment.Count > 0 || candidate.Environment.Count == 0)
                {
                    return existing;
                }

                // Reported before it recorded its environment: the environment joins the record.
                return Batch.Processes[candidate.Key] = existing with { Environment = candidate.Environment, ResumedFrom = existing.ResumedFrom ?? candidate.ResumedFrom };
            }

            return Batch.Processes[candidate.Key] = candidate;
        }

        public FingerprintReceipt Report(ReportFingerprintsOperation operation)
        {
            var key = operation.Process;
            _ = Find(key.ExperimentId) ?? throw SeedDaemonException.ExperimentNotFound(key.ExperimentId);
            var process = Process(key) ?? ProcessRecord.New(key, new Dictionary<string, string>(), null, operation.StartUnixMs);

            // Checks first: nothing is planned unless every step may be recorded.
            var recorded = new StepFingerprint?[operation.Steps.Count];
            for (var i = 0; i < operation.Steps.Count; i++)
            {
                var step = operation.Steps[i].Step;
                if (step <= process.LastStep && (recorded[i] = Fingerprint(key, step)) is null)
                {
                    throw SeedDaemonException.Invalid(
                        $"steps[{i}].step",
                        $"step {step} goes backwards: worker {key.Worker} of run '{key.RunId}' last reported step {process.LastStep}, and step {step} was never reported. Steps only go forward within a run; a process that restarts from a checkpoint reports under a new run (resumed from this one).");
                }
            }

            // The step this report's first new step follows: stored (not one this batch added), read now if the backend rewrites it.
            var firstNew = operation.Steps.Select((s, i) => (s.Step, New: recorded[i] is null)).FirstOrDefault(s => s.New);
            if (firstNew.New && process.LastStep >= 0 && !Batch.Fingerprints.ContainsKey((key, process.LastStep)))
            {
                state.CheckAppend(key, process.LastStep, firstNew.Step);
            }

            long added = 0, repeats = 0, conflicts = 0;
            var conflictList = process.Conflicts.ToList();
            for (var i = 0; i < operation.Steps.Count; i++)
            {
                var fingerprint = operation.Steps[i];
                if (recorded[i] is { } first)
                {
                    var differences = first.Differences(fingerprint);
                    if (differences.Count == 0)
                    {
                        repeats++;
                        continue;
                    }

                    conflicts++;
                    if (conflictList.Count < ProcessRecord.MaxConflictsListed)
                    {
                        conflictList.Add(new StepConflict(fingerprint.Step, differences));
                    }

                    continue;
                }

                Batch.Fingerprints[(key, fingerprint.Step)] = fingerprint;
                Batch.PreviousSteps[(key, fingerprint.Step)] = process.LastStep;
                added++;
                process = process with
                {
                    FirstStep = process.Steps == 0 ? fingerprint.Step : process.FirstStep,
                    LastStep = fingerprint.Step,
                    Steps = process.Steps + 1,
                };
            }

            if (added > 0 || conflicts > 0 || Process(key) is null)
            {
                Batch.Processes[key] = process with { ConflictCount = process.ConflictCount + conflicts, Conflicts = conflictList };
            }

            return new FingerprintReceipt(added, repeats, conflicts);
        }

        private ProcessRecord? Process(ProcessKey key) =>
            Batch.Processes.TryGetValue(key, out var process) ? process : state.Process(key);

        private StepFingerprint? Fingerprint(ProcessKey key, long step) =>
            Batch.Fingerprints.TryGetValue((key, step), out var fingerprint) ? fingerprint : state.Fingerprint(key, step);
    }
}
