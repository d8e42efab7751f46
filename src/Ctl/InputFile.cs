namespace SeedDaemon.Ctl;

/// <summary>A file seedctl reads (a proof bundle, a checkpoint, a key): one it cannot read is exit 2 naming it.</summary>
public static class InputFile
{
    public static string ReadText(FileInfo file, string what)
    {
        try
        {
            return File.ReadAllText(file.FullName);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CtlException(ExitCodes.Usage, $"cannot read the {what} {file.FullName}: {(error is FileNotFoundException or DirectoryNotFoundException ? "it does not exist" : error.Message)}");
        }
    }
}
