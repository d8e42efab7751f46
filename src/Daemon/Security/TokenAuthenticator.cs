using System.Security.Cryptography;
using System.Text;

namespace SeedDaemon.Daemon.Security;

/// <summary>An authenticated caller.</summary>
internal sealed record Principal(string Name, string Role);

/// <summary>Matches bearer tokens against the configured SHA-256 hashes in constant time.</summary>
internal sealed class TokenAuthenticator(AuthOptions options)
{
    private readonly (Principal Principal, byte[] Hash)[] _tokens = options.Tokens
        .Select(t => (new Principal(t.Name, t.Role), Convert.FromHexString(t.Sha256)))
        .ToArray();

    public bool Enabled => _tokens.Length > 0;

    /// <summary>The principal whose token this is, or null. Compares against every token, whatever matches.</summary>
    public Principal? Authenticate(string token)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        Principal? found = null;
        foreach (var (principal, expected) in _tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, expected))
            {
                found = principal;
            }
        }

        return found;
    }
}
