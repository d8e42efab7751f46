using SeedDaemon.Daemon.Issuance;
using SeedDaemon.Daemon.Recording;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Runs;

/// <summary>The rules a run's records follow before anything is recorded; each refusal names its field.</summary>
internal static class RunValidation
{
    public const int MaxStepsPerReport = 1000;
    public const int MaxDigestsPerStep = 64;
    public const int MaxDigestBytes = 64;
    public const int MaxEnvironmentEntries = 128;

    public static ProcessKey Process(string experimentId, string runId, uint worker)
    {
        Validation.ExperimentId(experimentId);
        RunId(runId);
        if (!KeyRules.IsValidWorker(worker))
        {
            throw SeedDaemonException.Invalid("worker", $"worker {worker} is reserved; workers are 0 to {KeyRules.ReservedWorker - 1}.");
        }

        return new ProcessKey(experimentId, runId, worker);
    }

    public static void RunId(string? runId, string field = "run_id")
    {
        if (!KeyRules.IsValidExperimentId(runId))
        {
            throw SeedDaemonException.Invalid(field, $"run_id '{Validation.Printable(runId)}' must match ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,127}}$ (at most {KeyRules.MaxExperimentIdLength} characters), as an experiment id.");
        }
    }

    public static void Step(long step, string field)
    {
        if (step < 0)
        {
            throw SeedDaemonException.Invalid(field, $"step {step} is negative; steps are 0 or more.");
        }
    }

    public static void Environment(IReadOnlyDictionary<string, string> environment)
    {
        if (environment.Count > MaxEnvironmentEntries)
        {
            throw SeedDaemonException.Invalid("environment", $"at most {MaxEnvironmentEntries} environment entries are allowed, got {environment.Count}.");
        }

        foreach (var (key, value) in environment)
        {
            if (!Validation.IsValidLabelKey(key))
            {
                throw SeedDaemonException.Invalid("environment", $"environment key '{Validation.Printable(key)}' must match ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,62}}$.");
            }

            if (value.Length > Validation.MaxLabelValueLength || value.Contains('\0', StringComparison.Ordinal))
            {
                throw SeedDaemonException.Invalid("environment", $"environment entry '{key}' must have a value of at most {Validation.MaxLabelValueLength} characters and no NUL.");
            }
        }
    }

    /// <summary>Steps ascending and not negative, at most <see cref="MaxStepsPerReport"/>, each with 1 to <see cref="MaxDigestsPerStep"/> well-formed digests with unique names.</summary>
    public static void Steps(IReadOnlyList<StepFingerprint> steps)
    {
        if (steps.Count == 0 || steps.Count > MaxStepsPerReport)
        {
            throw SeedDaemonException.Invalid("steps", $"a report holds 1 to {MaxStepsPerReport} steps, got {steps.Count}.");
        }

        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            Step(step.Step, $"steps[{i}].step");
            if (i > 0 && step.Step <= steps[i - 1].Step)
            {
                throw SeedDaemonException.Invalid($"steps[{i}].step", $"steps[{i}].step is {step.Step}, not above steps[{i - 1}].step ({steps[i - 1].Step}): a report's steps go up.");
            }

            if (step.Digests.Count == 0 || step.Digests.Count > MaxDigestsPerStep)
            {
                throw SeedDaemonException.Invalid($"steps[{i}].digests", $"step {step.Step} has {step.Digests.Count} digests; a step has 1 to {MaxDigestsPerStep}.");
            }

            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var j = 0; j < step.Digests.Count; j++)
            {
                var digest = step.Digests[j];
                var field = $"steps[{i}].digests[{j}]";
                if (!KeyRules.IsValidName(digest.Name))
                {
                    throw SeedDaemonException.Invalid(field + ".name", $"digest name '{Validation.Printable(digest.Name)}' must match ^[a-z0-9][a-z0-9._-]{{0,63}}$.");
                }

                if (!names.Add(digest.Name))
                {
                    throw SeedDaemonException.Invalid(field + ".name", $"digest name '{digest.Name}' appears twice in step {step.Step}.");
                }

                if (!Enum.IsDefined(digest.Kind))
                {
                    throw SeedDaemonException.Invalid(field + ".kind", $"digest '{digest.Name}' has no kind (generator, scalar, tensor or bytes).");
                }

                if (digest.Value.Length is 0 or > MaxDigestBytes || digest.Kind == DigestKind.Scalar && digest.Value.Length != 8)
                {
                    throw SeedDaemonException.Invalid(field + ".value", $"digest '{digest.Name}' is {digest.Value.Length} bytes; a digest is 1 to {MaxDigestBytes} bytes, a scalar exactly 8 (an IEEE double's bits).");
                }
            }
        }
    }
}
