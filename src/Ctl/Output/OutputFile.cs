namespace SeedDaemon.Ctl.Output;

/// <summary>
/// A file seedctl writes (-o, --html): written to FILE.partial and renamed when whole, so a failed
/// write leaves nothing behind and never half a file; a place it cannot write is exit 1 naming it.
/// </summary>
public static class OutputFile
{
    public static async Task WriteAsync(FileInfo file, Func<Stream, Task> write)
    {
        var temporary = file.FullName + ".partial";
        var done = false;
        try
        {
            await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                await write(stream);
            }

            File.Move(temporary, file.FullName, overwrite: true);
            done = true;
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new CtlException(ExitCodes.Failed, $"cannot write {file.FullName} ({error.Message}); nothing was written there.");
        }
        finally
        {
            if (!done && File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    public static Task WriteAsync(FileInfo file, string text) =>
        WriteAsync(file, async stream =>
        {
            await using var writer = new StreamWriter(stream, leaveOpen: true);
            await writer.WriteAsync(text);
        });
}
