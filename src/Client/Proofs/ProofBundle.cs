using System.Text.Json;
using System.Text.Json.Serialization;
using SeedDaemon.Derivation.Ledger;
using SeedDaemon.Ledger;
using SeedDaemon.V1;

namespace SeedDaemon.Client.Proofs;

/// <summary>
/// A proof that one ledger entry (the event that issued a seed) is in an experiment's log: the
/// entry's canonical bytes (seedd-ledger-v2), its leaf index, the tree size, RFC 9162's audit path
/// and the signed checkpoint it leads to. Written by <c>seedctl seeds prove</c> as JSON and checked
/// offline with the deployment's verifier key alone (<see cref="Verify"/>, <c>seedctl verify-proof</c>).
/// </summary>
public sealed record ProofBundle(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("entry")] byte[] Entry,
    [property: JsonPropertyName("index")] long Index,
    [property: JsonPropertyName("tree_size")] long TreeSize,
    [property: JsonPropertyName("audit_path")] IReadOnlyList<byte[]> AuditPath,
    [property: JsonPropertyName("checkpoint")] string Checkpoint)
{
    public const string FormatName = "seedd-proof-v1";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static ProofBundle FromProto(InclusionProof proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        return new ProofBundle(FormatName, proof.Entry.ToByteArray(), proof.LeafIndex, proof.TreeSize, [.. proof.AuditPath.Select(p => p.ToByteArray())], proof.Checkpoint);
    }

    /// <summary>The event the entry records (its sequence is <see cref="Index"/> + 1).</summary>
    /// <exception cref="SeedVerificationException">The entry bytes are not a seed event.</exception>
    public LedgerEntry Event()
    {
        try
        {
            return LedgerTree.ParseEntry(Entry) with { Sequence = (ulong)Index + 1 };
        }
        catch (FormatException error)
        {
            throw new SeedVerificationException($"the bundle's entry is not a seedd-ledger-v2 seed event: {error.Message}");
        }
    }

    /// <summary>
    /// Checks the bundle with the deployment's verifier key alone: the checkpoint's signature and
    /// origin (the entry's experiment), its size against tree_size, and the audit path from the
    /// entry's leaf hash to the checkpoint's root. Returns the opened checkpoint.
    /// </summary>
    /// <exception cref="SeedVerificationException">What does not match.</exception>
    public LedgerCheckpoint Verify(string verifierKey)
    {
        if (Format != FormatName)
        {
            throw new SeedVerificationException($"the bundle's format is '{Format}', not '{FormatName}'");
        }

        var entry = Event();
        var checkpoint = LedgerCheckpoint.Open(Checkpoint, verifierKey, entry.ExperimentId);
        if (checkpoint.Size != TreeSize)
        {
            throw new SeedVerificationException($"the bundle says tree_size {TreeSize}, its signed checkpoint {checkpoint.Size}");
        }

        if (Index < 0 || Index >= TreeSize)
        {
            throw new SeedVerificationException($"index {Index} is not in a tree of {TreeSize} entries");
        }

        if (!MerkleTree.VerifyInclusion(Index, TreeSize, MerkleTree.LeafHash(Entry), AuditPath, checkpoint.Root))
        {
            throw new SeedVerificationException($"the audit path does not lead from entry {Index} to the checkpoint's root: the entry, its index or the path was changed");
        }

        return checkpoint;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <exception cref="SeedVerificationException">The text is not a proof bundle.</exception>
    public static ProofBundle Parse(string json)
    {
        try
        {
            var bundle = JsonSerializer.Deserialize<ProofBundle>(json, Json);
            return bundle is { Entry: not null, AuditPath: not null, Checkpoint: not null, Format: not null } && bundle.AuditPath.All(p => p is not null)
                ? bundle
                : throw new SeedVerificationException("it is not a proof bundle: format, entry, index, tree_size, audit_path and checkpoint are all needed");
        }
        catch (JsonException error)
        {
            throw new SeedVerificationException($"it is not a proof bundle: {error.Message}");
        }
    }
}
