using SeedDaemon.Ledger;

namespace SeedDaemon.Client.Proofs;

/// <summary>
/// A signed checkpoint of one experiment's ledger, opened: the signed note checked against the
/// deployment's verifier key, its text parsed as a C2SP tlog-checkpoint, and its origin held to
/// "KEYNAME/EXPERIMENT". What a tracker keeps of a run (a few hundred bytes) to pin every seed it used.
/// </summary>
public sealed record LedgerCheckpoint(string Note, string ExperimentId, long Size, byte[] Root)
{
    /// <summary>Opens <paramref name="note"/> with <paramref name="verifierKey"/> (signed-note verifier key text).</summary>
    /// <exception cref="SeedVerificationException">The signature, the text or the origin does not hold, saying which.</exception>
    public static LedgerCheckpoint Open(string note, string verifierKey, string? experimentId = null)
    {
        ArgumentNullException.ThrowIfNull(note);
        NoteVerifier verifier;
        try
        {
            verifier = NoteVerifier.Parse(verifierKey.Trim());
        }
        catch (FormatException error)
        {
            throw new SeedVerificationException($"the verifier key is not a signed-note Ed25519 key: {error.Message}");
        }

        string text;
        try
        {
            text = verifier.Open(note);
        }
        catch (Exception error) when (error is NoteException or FormatException)
        {
            throw new SeedVerificationException($"the checkpoint's signature does not verify with key {verifier.Name}+{verifier.KeyHash:x8}: {error.Message}");
        }

        Checkpoint checkpoint;
        try
        {
            checkpoint = Checkpoint.Parse(text);
        }
        catch (FormatException error)
        {
            throw new SeedVerificationException($"the signed text is not a checkpoint: {error.Message}");
        }

        var prefix = verifier.Name + "/";
        if (!checkpoint.Origin.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new SeedVerificationException($"the checkpoint is of log '{checkpoint.Origin}', not of a log of '{verifier.Name}'");
        }

        var experiment = checkpoint.Origin[prefix.Length..];
        if (experimentId is not null && experiment != experimentId)
        {
            throw new SeedVerificationException($"the checkpoint is of experiment '{experiment}' (origin '{checkpoint.Origin}'), not of '{experimentId}'");
        }

        return new LedgerCheckpoint(note, experiment, checkpoint.Size, checkpoint.Root);
    }

    /// <summary>Holds <paramref name="proof"/> (RFC 9162 consistency) to show this checkpoint's log extends <paramref name="older"/>.</summary>
    /// <exception cref="SeedVerificationException">It does not, saying why.</exception>
    public void CheckExtends(LedgerCheckpoint older, IReadOnlyList<byte[]> proof)
    {
        ArgumentNullException.ThrowIfNull(older);
        if (older.ExperimentId != ExperimentId)
        {
            throw new SeedVerificationException($"the old checkpoint is of experiment '{older.ExperimentId}', the new one of '{ExperimentId}'");
        }

        if (older.Size > Size)
        {
            throw new SeedVerificationException($"the old checkpoint has {older.Size} entries, more than today's log ({Size}): the log lost entries, or the old checkpoint is of another log");
        }

        if (!MerkleTree.VerifyConsistency(older.Size, Size, older.Root, Root, proof))
        {
            throw new SeedVerificationException($"the log of {Size} entries does not extend the old checkpoint of {older.Size}: the consistency proof does not lead to both roots (entries before {older.Size} were changed, or the proof was)");
        }
    }
}
