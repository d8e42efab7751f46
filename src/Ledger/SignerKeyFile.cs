namespace SeedDaemon.Ledger;

/// <summary>
/// A signer key's file: the key as text (<see cref="NoteSigner.Encoded"/>) and a newline, in a file
/// only its owner can read or write (mode 0600 from the moment it exists), written whole or not at
/// all, never over an existing file (a key replaced orphans every checkpoint it signed).
/// </summary>
public static class SignerKeyFile
{
    /// <summary>The name seedd gives a key it generates: "seedd." and the host name, in the characters a key name allows.</summary>
    public static string DefaultName
    {
        get
        {
            var host = new string([.. Environment.MachineName.ToLowerInvariant().Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.')]);
            return host.Length > 0 ? $"seedd.{host}" : "seedd";
        }
    }

    /// <exception cref="IOException">The file exists, or cannot be written; no partial file is left.</exception>
    public static void Write(string path, NoteSigner signer)
    {
        ArgumentNullException.ThrowIfNull(signer);

        // This process's own partial file (two writers at once each write their own); a leftover one
        // would keep its mode: it goes first, and the new one is created 0600.
        var partial = $"{path}.{Environment.ProcessId}.partial";
        File.Delete(partial);
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        try
        {
            using (var file = new FileStream(partial, create))
            {
                file.Write(System.Text.Encoding.UTF8.GetBytes(signer.Encoded + "\n"));
                file.Flush(flushToDisk: true);
            }

            File.Move(partial, path, overwrite: false);
        }
        finally
        {
            File.Delete(partial);
        }
    }
}
