using System.Text;
using SeedDaemon.Ledger;

namespace SeedDaemon.Tests.Ledger;

/// <summary>
/// Signed notes (C2SP signed-note, Ed25519) and checkpoints held against Go's
/// golang.org/x/mod/sumdb/note, run as a process: Go opens the notes seedd's code signs with the
/// verifier key it prints, seedd's code opens Go's, a signer key Go made gives the same verifier key
/// and the same note bytes here, and a changed note or another key is refused by both.
/// </summary>
public sealed class SignedNoteTests
{
    [Fact]
    public async Task Go_opens_the_notes_signed_here_and_the_same_key_signs_the_same_bytes_in_both()
    {
        var generated = (await GoOracle.RunAsync("note_oracle.go", ["generate seedd.test/go"]))[0].Split(' ');
        var (goSigner, goVerifier) = (generated[0], generated[1]);
        var ours = NoteSigner.Generate("seedd.test/ledger");
        var theirs = NoteSigner.Parse(goSigner);
        Assert.Equal(goVerifier, theirs.VerifierKey);
        Assert.Equal(goSigner, theirs.Encoded);
        Assert.Equal(ours.VerifierKey, NoteSigner.Parse(ours.Encoded).VerifierKey);

        var text = new Checkpoint("seedd.test/ledger/team/exp-1", 1234, MerkleTree.LeafHash("root"u8)).Text;
        var signed = ours.Sign(text);
        var tampered = signed.Replace("\n1234\n", "\n1235\n", StringComparison.Ordinal);
        var answers = await GoOracle.RunAsync("note_oracle.go", [
            $"open {ours.VerifierKey} {B64(signed)}",
            $"open {goVerifier} {B64(theirs.Sign(text))}",
            $"sign {goSigner} {B64(text)}",
            $"open {ours.VerifierKey} {B64(tampered)}",
            $"open {goVerifier} {B64(signed)}",
        ]);

        Assert.Equal($"ok {B64(text)}", answers[0]);
        Assert.Equal($"ok {B64(text)}", answers[1]);
        var goNote = Encoding.UTF8.GetString(Convert.FromBase64String(answers[2]));
        Assert.Equal(goNote, theirs.Sign(text));
        Assert.Equal(text, NoteVerifier.Parse(goVerifier).Open(goNote));
        Assert.StartsWith("error:", answers[3], StringComparison.Ordinal);
        Assert.StartsWith("error:", answers[4], StringComparison.Ordinal);

        Assert.Equal(text, NoteVerifier.Parse(ours.VerifierKey).Open(signed));
        Assert.Contains("does not verify", Assert.Throws<NoteException>(() => NoteVerifier.Parse(ours.VerifierKey).Open(tampered)).Message, StringComparison.Ordinal);
        Assert.Contains($"holds no signature of {theirs.Name}", Assert.Throws<NoteException>(() => NoteVerifier.Parse(goVerifier).Open(signed)).Message, StringComparison.Ordinal);
        var opened = Checkpoint.Parse(NoteVerifier.Parse(ours.VerifierKey).Open(signed));
        Assert.Equal(("seedd.test/ledger/team/exp-1", 1234L, text), (opened.Origin, opened.Size, opened.Text));
    }

    [Fact]
    public void Keys_notes_and_checkpoints_that_are_not_are_refused_naming_what_is_wrong()
    {
        var key = NoteSigner.Generate("seedd.test/ledger");
        var parts = key.Encoded.Split('+', 5);
        Assert.Contains("PRIVATE+KEY+", Assert.Throws<FormatException>(() => NoteSigner.Parse(key.VerifierKey)).Message, StringComparison.Ordinal);
        Assert.Contains("is not the hash of its key", Assert.Throws<FormatException>(() => NoteSigner.Parse(string.Join('+', parts[..3]) + "+00000000+" + parts[4])).Message, StringComparison.Ordinal);
        Assert.Contains("not an Ed25519 private key", Assert.Throws<FormatException>(() => NoteSigner.Parse(string.Join('+', parts[..4]) + "+AQID")).Message, StringComparison.Ordinal);
        Assert.Contains("not base64", Assert.Throws<FormatException>(() => NoteVerifier.Parse("name+0badc0de+!!")).Message, StringComparison.Ordinal);
        Assert.Contains("8 hex digits", Assert.Throws<FormatException>(() => NoteVerifier.Parse("name+xyz+AQID")).Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => NoteSigner.Generate("two words"));
        Assert.Throws<ArgumentException>(() => key.Sign("no newline"));
        Assert.Contains("not a signed note", Assert.Throws<NoteException>(() => NoteVerifier.Parse(key.VerifierKey).Open("text only\n")).Message, StringComparison.Ordinal);

        // A note saved with an extra newline at its end (echo >> file): refused naming it, not an ArgumentOutOfRangeException.
        var saved = key.Sign("seedd.test/ledger/e\n1\nAAAA\n") + "\n";
        Assert.Contains("ends with a blank line", Assert.Throws<NoteException>(() => NoteVerifier.Parse(key.VerifierKey).Open(saved)).Message, StringComparison.Ordinal);

        var checkpoint = new Checkpoint("seedd.test/ledger/e", 0, new byte[32]);
        Assert.Equal((checkpoint.Origin, checkpoint.Size), (Checkpoint.Parse(checkpoint.Text).Origin, Checkpoint.Parse(checkpoint.Text).Size));
        Assert.Contains("tree size", Assert.Throws<FormatException>(() => Checkpoint.Parse("o\n012\nAAAA\n")).Message, StringComparison.Ordinal);
        Assert.Contains("root hash", Assert.Throws<FormatException>(() => Checkpoint.Parse("o\n12\nAAAA\n")).Message, StringComparison.Ordinal);
        Assert.Throws<FormatException>(() => Checkpoint.Parse("o\n12\n"));
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
