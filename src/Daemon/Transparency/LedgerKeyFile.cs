using System.Text;
using SeedDaemon.Ledger;

namespace SeedDaemon.Daemon.Transparency;

/// <summary>
/// The key that signs checkpoints, read at start before anything is opened: a file others can read,
/// or one that is not a signed-note Ed25519 private key, refuses the start by name and changes
/// nothing. Where none is configured and none exists yet, one is generated in memory and written
/// (mode 0600) only once the start has got past the store (<see cref="Persist"/>).
/// </summary>
internal sealed class LedgerKeyFile
{
    public const string FileName = "ledger.key";

    /// <summary>The systemd credential (LoadCredential=seedd-ledger-key:/path) read when no file is configured.</summary>
    public const string CredentialName = "seedd-ledger-key";

    private const UnixFileMode OthersMayTouch =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private LedgerKeyFile(string path, NoteSigner signer, bool generated)
    {
        Path = path;
        Signer = signer;
        Generated = generated;
    }

    public string Path { get; }

    public NoteSigner Signer { get; }

    /// <summary>Made at this start: not yet on disk until <see cref="Persist"/>.</summary>
    public bool Generated { get; private set; }

    /// <param name="databaseFolder">Where a key nobody configured lives (and is generated): beside the embedded database, or seedd's data directory.</param>
    /// <exception cref="LedgerKeyException">The key file cannot be used (named, with why).</exception>
    public static LedgerKeyFile Load(LedgerOptions options, string databaseFolder, Func<string, string?> environment)
    {
        var configured = string.IsNullOrWhiteSpace(options.KeyFile) ? null : options.KeyFile;
        if (configured is null && environment("CREDENTIALS_DIRECTORY") is { Length: > 0 } credentials
            && File.Exists(System.IO.Path.Combine(credentials, CredentialName)))
        {
            configured = System.IO.Path.Combine(credentials, CredentialName);
        }

        var path = System.IO.Path.GetFullPath(configured ?? System.IO.Path.Combine(databaseFolder, FileName));
        if (!File.Exists(path))
        {
            if (configured is not null)
            {
                throw Refused(path, "does not exist. Give the file replicas share (Seedd:Ledger:KeyFile), or leave the setting out to have seedd generate one beside its database");
            }

            return new LedgerKeyFile(path, NoteSigner.Generate(Name(options)), generated: true);
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & OthersMayTouch) != 0)
        {
            var mode = Convert.ToString((int)File.GetUnixFileMode(path), 8).PadLeft(4, '0');
            throw Refused(path, $"can be read or written by others (mode {mode}): it signs the ledger's checkpoints. Make it readable by seedd's user only: chmod 600 {path}");
        }

        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8).Trim();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw Refused(path, $"cannot be read: {error.Message}");
        }

        try
        {
            return new LedgerKeyFile(path, NoteSigner.Parse(text), generated: false);
        }
        catch (Exception error) when (error is FormatException or NoteException)
        {
            throw Refused(path, $"is damaged or not a ledger signing key ({error.Message}); it should hold one line, PRIVATE+KEY+name+hash+key");
        }
    }

    /// <summary>Writes a generated key (0600, whole or not at all), then syncs its folder with <paramref name="syncDirectory"/>. Called once the store is open.</summary>
    public void Persist(Action<string> syncDirectory)
    {
        if (!Generated)
        {
            return;
        }

        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        try
        {
            SignerKeyFile.Write(Path, Signer);
        }
        catch (IOException) when (File.Exists(Path))
        {
            // Another seedd (a replica started beside this one) generated the key first: this start is refused, the next uses it.
            throw new IOException($"another seedd generated {Path} at the same moment; start this one again and it signs with that key");
        }

        Generated = false;
        Created = true;

        // The rename is made durable too: checkpoints signed with this key must not outlive the file after a power cut.
        syncDirectory(System.IO.Path.GetDirectoryName(Path)!);
    }

    /// <summary>This start wrote the file (<see cref="Persist"/>).</summary>
    public bool Created { get; private set; }

    /// <summary>After a start refused past <see cref="Persist"/>: the generated file goes again.</summary>
    public void RemoveAfterRefusedStart()
    {
        if (Created)
        {
            File.Delete(Path);
        }
    }

    private static string Name(LedgerOptions options)
    {
        if (options.Name is { Length: > 0 } name)
        {
            return name;
        }

        return SignerKeyFile.DefaultName;
    }

    private static LedgerKeyException Refused(string path, string why) => new($"the ledger key file {path} {why}");
}

/// <summary>The ledger key file cannot be used: the start is refused with this message.</summary>
internal sealed class LedgerKeyException(string message) : Exception(message);
