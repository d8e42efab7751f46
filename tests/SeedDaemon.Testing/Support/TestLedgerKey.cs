using SeedDaemon.Ledger;

namespace SeedDaemon.Testing;

/// <summary>
/// One ledger signing key for the test run's PostgreSQL daemons (replicas share one, as in production),
/// in a temporary file only this user can read: seedd would otherwise generate one in the user's
/// data directory, outside the test's folders.
/// </summary>
public static class TestLedgerKey
{
    public const string Name = "seedd.test";

    private static readonly Lazy<(string Path, NoteSigner Signer)> Key = new(() =>
    {
        var folder = Directory.CreateTempSubdirectory("seedd-ledger-key-");
        var signer = NoteSigner.Generate(Name);
        var path = System.IO.Path.Combine(folder.FullName, "ledger.key");
        File.WriteAllText(path, signer.Encoded + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => folder.Delete(recursive: true);
        return (path, signer);
    });

    public static string Path => Key.Value.Path;

    public static string VerifierKey => Key.Value.Signer.VerifierKey;
}
