namespace SeedDaemon.Daemon.Transparency;

/// <summary>Section "Seedd:Ledger": the key that signs the ledger's checkpoints.</summary>
internal sealed class LedgerOptions
{
    /// <summary>
    /// The signing key, a signed-note private key (PRIVATE+KEY+name+hash+key) in a file only seedd's
    /// user can read. Replicas share one. When not set: the systemd credential "seedd-ledger-key"
    /// when there is one, else ledger.key beside the embedded database (generated at first start).
    /// </summary>
    public string? KeyFile { get; set; }

    /// <summary>The name a generated key gets (the origin prefix of every checkpoint): "seedd." and the host name when not set.</summary>
    public string? Name { get; set; }
}
