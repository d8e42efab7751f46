namespace SeedDaemon.Derivation;

/// <summary>
/// What seedseq-v1 accepts as a key. The daemon, the SDK and other-language clients all apply
/// these rules, so a key that one accepts every other accepts too.
/// </summary>
public static class KeyRules
{
    public const int MaxExperimentIdLength = 128;
    public const int MaxNameLength = 64;

    /// <summary>Label keys (an experiment's labels and a client's): the experiment id rule, at most this long.</summary>
    public const int MaxLabelKeyLength = 63;

    public const int MaxLabelValueLength = 256;

    /// <summary>Client labels (x-seedd-client-labels) the daemon records with each ledger event.</summary>
    public const int MaxClientLabels = 16;

    /// <summary>0xFFFFFFFF is the spawn-key slot of the column permutation keys.</summary>
    public const uint ReservedWorker = 0xFFFFFFFF;

    /// <summary>^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$</summary>
    public static bool IsValidExperimentId(string? id)
    {
        if (string.IsNullOrEmpty(id) || id.Length > MaxExperimentIdLength || !IsAsciiAlphanumeric(id[0]))
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!IsAsciiAlphanumeric(c) && c is not ('.' or '_' or '/' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>^[a-z0-9][a-z0-9._-]{0,63}$ — libraries and streams.</summary>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !IsLowerAlphanumeric(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!IsLowerAlphanumeric(c) && c is not ('.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$</summary>
    public static bool IsValidLabelKey(string? key) => IsValidExperimentId(key) && key!.Length <= MaxLabelKeyLength;

    /// <summary>A stream may also be empty (the library's default stream).</summary>
    public static bool IsValidStream(string? stream) => stream is not null && (stream.Length == 0 || IsValidName(stream));

    public static bool IsValidWorker(uint worker) => worker != ReservedWorker;

    private static bool IsAsciiAlphanumeric(char c) => char.IsAsciiLetterOrDigit(c);

    private static bool IsLowerAlphanumeric(char c) => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c);
}
