using SeedDaemon.Ledger;

namespace SeedDaemon.Ctl;

/// <summary>
/// A --key file: the deployment's verifier key, one line as 'seedctl ledger key' prints it. A file
/// of another kind (the signer's private key, JSON output, two keys) is a usage error naming what it
/// holds, exit 2, not a failed verification (exit 5) a script would take for a forgery.
/// </summary>
public static class VerifierKeyFile
{
    public static string Read(FileInfo file)
    {
        var text = InputFile.ReadText(file, "verifier key");
        var key = text.Trim().TrimStart('\uFEFF');
        var what = key.StartsWith("PRIVATE+KEY+", StringComparison.Ordinal) ? "the signer's private key, which must not leave seedd's host"
            : key.StartsWith('{') ? "JSON"
            : key.Contains('\n', StringComparison.Ordinal) ? "more than one line"
            : null;
        if (what is null)
        {
            try
            {
                _ = NoteVerifier.Parse(key);
                return key;
            }
            catch (FormatException error)
            {
                what = $"no verifier key ({error.Message})";
            }
        }

        throw new CtlException(ExitCodes.Usage, $"the verifier key file {file.FullName} holds {what}: give a file with the one line 'seedctl ledger key' prints (without --output json), as NAME+HASH+KEY.");
    }
}
