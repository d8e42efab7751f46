using SeedDaemon.Daemon.Recording;
using System.Text;
using SeedDaemon.Derivation;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>Input checks shared by the domain operations. Each failure names the field.</summary>
internal static class Validation
{
    public const int MaxLabels = 64;
    public const int MaxLabelValueLength = KeyRules.MaxLabelValueLength;
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    public static void ExperimentId(string? id, string field = "experiment_id")
    {
        if (!KeyRules.IsValidExperimentId(id))
        {
            throw SeedDaemonException.Invalid(field, string.IsNullOrEmpty(id)
                ? "experiment_id is required."
                : $"experiment_id '{Printable(id)}' must match ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,127}}$.");
        }
    }

    /// <summary>
    /// A new experiment's id also has no empty, '.' or '..' path segment, which REST's paths
    /// (/v1/experiments/ID) could not name ('a/../b' is 'b' to an HTTP server, 'a/b/' is not 'a/b').
    /// Experiments made before the rule keep their ids, so the caller asks only of a new one.
    /// </summary>
    public static bool IsNameableInPaths(string id) => !id.Split('/').Any(segment => segment is "" or "." or "..");

    public static SeedDaemonException NotNameableInPaths(string id) =>
        SeedDaemonException.Invalid("experiment_id", $"experiment_id '{id}' has an empty, '.' or '..' path segment, which a REST path could not name: separate names with single slashes.");

    public static void Library(string? library, string field = "library")
    {
        if (!KeyRules.IsValidName(library))
        {
            throw SeedDaemonException.Invalid(field, $"library '{Printable(library)}' must be a canonical library or match ^[a-z0-9][a-z0-9._-]{{0,63}}$.");
        }
    }

    public static void Stream(string? stream, string field = "stream")
    {
        if (!KeyRules.IsValidStream(stream))
        {
            throw SeedDaemonException.Invalid(field, $"stream '{Printable(stream)}' must be empty or match ^[a-z0-9][a-z0-9._-]{{0,63}}$.");
        }
    }

    /// <summary>Experiment labels and client labels share one rule for keys: ^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$.</summary>
    public static bool IsValidLabelKey(string? key) => KeyRules.IsValidLabelKey(key);

    public static void Labels(IReadOnlyDictionary<string, string> labels)
    {
        if (labels.Count > MaxLabels)
        {
            throw SeedDaemonException.Invalid("labels", $"at most {MaxLabels} labels are allowed, got {labels.Count}.");
        }

        foreach (var (key, value) in labels)
        {
            if (!IsValidLabelKey(key))
            {
                throw SeedDaemonException.Invalid("labels", $"label key '{Printable(key)}' must match ^[A-Za-z0-9][A-Za-z0-9._/-]{{0,62}}$.");
            }

            if (value.Length > MaxLabelValueLength || value.Contains('\0', StringComparison.Ordinal))
            {
                throw SeedDaemonException.Invalid("labels", $"label '{key}' must have a value of at most {MaxLabelValueLength} characters and no NUL.");
            }
        }
    }

    public static int PageSize(int requested, string field = "page_size")
    {
        if (requested < 0 || requested > MaxPageSize)
        {
            throw SeedDaemonException.Invalid(field, $"page_size must be between 0 (default {DefaultPageSize}) and {MaxPageSize}, got {requested}.");
        }

        return requested == 0 ? DefaultPageSize : requested;
    }

    public static void BackupPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || !Path.IsPathFullyQualified(path) || path.Contains('\0', StringComparison.Ordinal) || path.Length > 4096)
        {
            throw SeedDaemonException.Invalid("path", $"path '{Printable(path)}' must be an absolute file path on the daemon's host.");
        }
    }

    /// <summary>Shortens and escapes client text before it is echoed in an error message.</summary>
    public static string Printable(string? text)
    {
        if (text is null)
        {
            return "";
        }

        var builder = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (builder.Length >= 80)
            {
                builder.Append('…');
                break;
            }

            if (Rune.IsControl(rune) || rune.Value is 0x200E or 0x200F or (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069))
            {
                builder.Append($"\\u{rune.Value:x4}");
            }
            else
            {
                builder.Append(rune.ToString());
            }
        }

        return builder.ToString();
    }

    /// <summary>
    /// Validates the parts of a key as a client sent them. <paramref name="batchIndex"/> is the key's
    /// place in a batch, named in errors ("requests[3].library"); -1 for a lone key.
    /// </summary>
    public static SeedKey Key(string experimentId, uint worker, string library, string stream, int batchIndex = -1)
    {
        // The field names are built only for an error: a batch of 1,000 keys would build 3,000.
        if (!KeyRules.IsValidExperimentId(experimentId) || !KeyRules.IsValidWorker(worker) || !KeyRules.IsValidName(library) || !KeyRules.IsValidStream(stream))
        {
            var prefix = batchIndex < 0 ? "" : $"requests[{batchIndex}].";
            Validation.ExperimentId(experimentId, prefix + "experiment_id");
            if (!KeyRules.IsValidWorker(worker))
            {
                throw SeedDaemonException.Invalid(prefix + "worker", "worker 4294967295 (0xFFFFFFFF) is reserved; workers are 0 to 4294967294.");
            }

            Validation.Library(library, prefix + "library");
            Validation.Stream(stream, prefix + "stream");
        }

        return new SeedKey(experimentId, worker, library, stream);
    }
}
