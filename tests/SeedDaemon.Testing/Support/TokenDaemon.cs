using System.Security.Cryptography;
using System.Text;

namespace SeedDaemon.Testing;

/// <summary>A daemon with three tokens, one per role.</summary>
public sealed class TokenDaemon : InProcessDaemon
{
    public const string IssuerToken = "issuer-secret-7c1f";
    public const string AuditorToken = "auditor-secret-91aa";
    public const string AdminToken = "admin-secret-0e3d";

    protected override void Configure(Dictionary<string, string?> settings, TempFolder folder)
    {
        settings["Seedd:HttpListen"] = "127.0.0.1:0";
        var tokens = new[] { ("trainer", "issuer", IssuerToken), ("auditor-jane", "auditor", AuditorToken), ("ops", "admin", AdminToken) };
        for (var i = 0; i < tokens.Length; i++)
        {
            settings[$"Seedd:Auth:Tokens:{i}:Name"] = tokens[i].Item1;
            settings[$"Seedd:Auth:Tokens:{i}:Role"] = tokens[i].Item2;
            settings[$"Seedd:Auth:Tokens:{i}:Sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(tokens[i].Item3)));
        }
    }
}
