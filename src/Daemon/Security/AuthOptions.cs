namespace SeedDaemon.Daemon.Security;

/// <summary>
/// Section "Seedd:Auth". Tokens are stored as the SHA-256 (hex) of the bearer token, never the
/// token itself; environment variables work too: Seedd__Auth__Tokens__0__Name, __Role, __Sha256.
/// </summary>
internal sealed class AuthOptions
{
    public List<TokenOptions> Tokens { get; set; } = [];

    /// <summary>Serve without tokens on an address other machines can reach. Off unless set on purpose.</summary>
    public bool AllowAnonymous { get; set; }
}

internal sealed class TokenOptions
{
    /// <summary>Who this token belongs to; recorded with every ledger event it causes.</summary>
    public string Name { get; set; } = "";

    /// <summary>issuer, auditor or admin.</summary>
    public string Role { get; set; } = "";

    /// <summary>SHA-256 of the token, 64 hex digits: <c>printf %s "$TOKEN" | sha256sum</c>.</summary>
    public string Sha256 { get; set; } = "";
}

/// <summary>Section "Seedd:Tls": a PEM certificate (chain) and its PEM private key for the listener.</summary>
internal sealed class TlsOptions
{
    public string? CertificatePath { get; set; }

    public string? KeyPath { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(CertificatePath);
}
