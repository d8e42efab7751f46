using System.Buffers.Text;
using System.Text;

namespace SeedDaemon.Daemon.Issuance;

/// <summary>Opaque paging cursors: the last key of the previous page, base64url-encoded and versioned.</summary>
internal static class PageToken
{
    private const string Prefix = "p1.";

    public static string Encode(string lastKey) => Prefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(lastKey));

    /// <summary>Returns null for an empty token (the first page).</summary>
    public static string? Decode(string? token, string field = "page_token")
    {
        if (string.IsNullOrEmpty(token))
        {
            return null;
        }

        if (token.Length > 1024 || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw SeedDaemonException.Invalid(field, "page_token is not a token this daemon issued; pass next_page_token from the previous response unchanged.");
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(Base64Url.DecodeFromChars(token.AsSpan(Prefix.Length)));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            throw SeedDaemonException.Invalid(field, "page_token is damaged; pass next_page_token from the previous response unchanged.");
        }
    }
}
