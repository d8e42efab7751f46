extern alias daemon;

using daemon::SeedDaemon.Daemon.Hosting;
using SeedDaemon.Ledger;
using SeedDaemon.V1;

namespace SeedDaemon.Tests.Ledger;

/// <summary>
/// The key that signs checkpoints, at start, as real processes: generated once beside the database,
/// readable by seedd's user only, and the same after a restart; a key file others can read, a damaged
/// one, or a configured one that is missing refuses the start by name and changes no file; one made
/// by <c>seedctl ledger keygen</c> signs as given.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class LedgerKeyFileTests
{
    [Fact]
    public async Task A_key_is_generated_once_beside_the_database_readable_by_seedds_user_only_and_kept()
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        string first;
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            first = await KeyAsync(seedd.Address);
        }

        var keyFile = folder.File("ledger.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        var stored = NoteSigner.Parse((await File.ReadAllTextAsync(keyFile)).Trim());
        Assert.Equal(first, stored.VerifierKey);
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            Assert.Equal(first, await KeyAsync(seedd.Address));
        }

        // Made by 'seedctl ledger keygen' (what replicas share): that key signs, whatever is beside the database.
        var shared = folder.File("shared.key");
        var printed = (await Seedctl.Expect(0, "http://127.0.0.1:1", "ledger", "keygen", "-o", shared, "--name", "seedd.example")).Trim();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(shared));
        Assert.Equal(printed, NoteSigner.Parse((await File.ReadAllTextAsync(shared)).Trim()).VerifierKey);
        Assert.StartsWith("seedd.example+", printed, StringComparison.Ordinal);
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db, "--ledger-key", shared))
        {
            Assert.Equal(printed, await KeyAsync(seedd.Address));
        }
    }

    [Fact]
    public async Task Keygen_never_replaces_a_key_and_refuses_a_bad_name_or_a_missing_folder_leaving_no_file()
    {
        using var folder = new TempFolder();
        var key = folder.File("ledger.key");
        await Seedctl.Expect(0, "http://127.0.0.1:1", "ledger", "keygen", "-o", key);
        var before = await File.ReadAllTextAsync(key);
        Assert.StartsWith($"PRIVATE+KEY+{SignerKeyFile.DefaultName}+", before, StringComparison.Ordinal);

        Assert.Contains("never replaces a key", await Seedctl.Expect(7, "http://127.0.0.1:1", "ledger", "keygen", "-o", key), StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(key));
        Assert.Contains("holds no '+' or white space", await Seedctl.Expect(6, "http://127.0.0.1:1", "ledger", "keygen", "-o", folder.File("other.key"), "--name", "my key"), StringComparison.Ordinal);
        Assert.Contains("does not exist", await Seedctl.Expect(2, "http://127.0.0.1:1", "ledger", "keygen", "-o", folder.File("no/such/ledger.key")), StringComparison.Ordinal);
        Assert.Equal(["ledger.key"], Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("readable", "can be read or written by others (mode 0644)")]
    [InlineData("damaged", "is damaged or not a ledger signing key")]
    [InlineData("missing", "does not exist")]
    public async Task A_key_file_others_can_read_a_damaged_one_or_a_missing_one_refuses_the_start_untouched(string fault, string says)
    {
        using var folder = new TempFolder();
        var db = folder.File("seeds.db");
        await using (var seedd = await SeeddProcess.StartAsync("--listen", "127.0.0.1:0", "--db", db))
        {
            await seedd.StopAsync();
        }

        var keyFile = folder.File("ledger.key");
        var configured = new List<string>();
        switch (fault)
        {
            case "readable":
                File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                break;
            case "damaged":
                var text = await File.ReadAllTextAsync(keyFile);
                await File.WriteAllTextAsync(keyFile, text[..20] + "!" + text[21..]);
                break;
            default:
                configured.AddRange(["--ledger-key", folder.File("replicas.key")]);
                keyFile = folder.File("replicas.key");
                break;
        }

        var before = DirectorySnapshot.Take(folder.Path);
        var (code, output) = await SeeddProcess.RunToExitAsync(["--listen", "127.0.0.1:0", "--db", db, .. configured]);
        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.Contains($"the ledger key file {keyFile} {says}", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        before.AssertUnchanged(folder.Path, $"a start refused for a {fault} key file");
    }

    private static async Task<string> KeyAsync(string address)
    {
        using var channel = TestChannels.Create(address);
        return (await new AuditService.AuditServiceClient(channel).GetLedgerKeyAsync(new GetLedgerKeyRequest())).VerifierKey;
    }
}
