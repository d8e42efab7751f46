using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Transparency;

/// <summary>
/// Signs experiments' checkpoints with the deployment's key: the C2SP tlog-checkpoint text (origin
/// "KEYNAME/EXPERIMENT", tree size, base64 root) as a C2SP signed note. Ed25519 signatures are
/// deterministic, so a checkpoint is signed when asked for and the same state always gives the same
/// bytes: nothing is stored.
/// </summary>
internal sealed class CheckpointSigner(LedgerKeyFile key)
{
    public string VerifierKey => key.Signer.VerifierKey;

    /// <summary>What every origin of this deployment starts with (the key's name).</summary>
    public string OriginPrefix => key.Signer.Name;

    public string Origin(string experimentId) => $"{OriginPrefix}/{experimentId}";

    public string Sign(string experimentId, long size, byte[] root) =>
        key.Signer.Sign(new Checkpoint(Origin(experimentId), size, root).Text);
}
