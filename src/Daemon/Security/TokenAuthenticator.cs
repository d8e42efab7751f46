using System.Security.Cryptography;
using System.Text;

namespace SeedDaemon.Daemon.Security;

/// <summary>An authenticated caller.</summary>
internal sealed record Principal(string Name, string Role);

/// <summary>A caller without a valid token (<see cref="Authenticated"/> false), or whose role may not call the method.</summary>
internal sealed class AccessDeniedException(bool authenticated, string message) : Exception(message)
{
    public bool Authenticated { get; } = authenticated;
}

/// <summary>Matches bearer tokens against the configured SHA-256 hashes in constant time.</summary>
internal sealed class TokenAuthenticator(AuthOptions options)
{
    private readonly (Principal Principal, byte[] Hash)[] _tokens = options.Tokens
        .Select(t => (new Principal(t.Name, t.Role), Convert.FromHexString(t.Sha256)))
        .ToArray();

    public bool Enabled => _tokens.Length > 0;

    /// <summary>
    /// Whether the caller that sent <paramref name="authorizationHeader"/> may call
    /// <paramref name="method"/> ("/package.Service/Method"): its principal's name, or null when no
    /// tokens are configured or the method is open to anonymous callers. gRPC (AuthInterceptor) and
    /// the manifest document endpoint ask the same question here.
    /// </summary>
    /// <exception cref="AccessDeniedException">no or a wrong token, or a role that may not call the method.</exception>
    public string? Authorize(string method, string? authorizationHeader)
    {
        if (!Enabled)
        {
            return null;
        }

        var allowed = Roles.Allowed(method);
        if (authorizationHeader is null)
        {
            return allowed is null
                ? null
                : throw new AccessDeniedException(false, "seedd requires a bearer token: send the metadata 'authorization: Bearer TOKEN'.");
        }

        const string Scheme = "Bearer ";
        var principal = authorizationHeader.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) ? Authenticate(authorizationHeader[Scheme.Length..].Trim()) : null;
        if (principal is null)
        {
            throw new AccessDeniedException(false, "The bearer token is not valid for this daemon.");
        }

        if (allowed is not null && !allowed.Contains(principal.Role))
        {
            throw new AccessDeniedException(true, $"Token '{principal.Name}' has role {principal.Role}; {method} needs {string.Join(" or ", allowed)}.");
        }

        return principal.Name;
    }

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
