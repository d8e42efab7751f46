using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace SeedDaemon.Ledger;

/// <summary>
/// An Ed25519 key that signs notes (C2SP signed-note), encoded as Go's golang.org/x/mod/sumdb/note
/// encodes its signer keys: <c>PRIVATE+KEY+name+hash+base64(0x01 || seed)</c>, where hash is the key
/// hash (8 hex digits) and the seed the 32-byte Ed25519 private key. Its verifier key is
/// <c>name+hash+base64(0x01 || public key)</c>, what any standard verifier of signed notes takes.
/// </summary>
public sealed class NoteSigner
{
    private const string Prefix = "PRIVATE+KEY+";

    private readonly Ed25519PrivateKeyParameters _key;

    private NoteSigner(string name, byte[] seed)
    {
        Name = name;
        _key = new Ed25519PrivateKeyParameters(seed, 0);
        PublicKey = _key.GeneratePublicKey().GetEncoded();
        KeyHash = SignedNote.KeyHash(name, PublicKey);
    }

    public string Name { get; }

    public uint KeyHash { get; }

    public byte[] PublicKey { get; }

    /// <summary>The verifier key, for anyone who checks this key's notes.</summary>
    public string VerifierKey => $"{Name}+{KeyHash:x8}+{Convert.ToBase64String([SignedNote.Ed25519, .. PublicKey])}";

    /// <summary>The signer key as text (secret: whoever has it signs as this log).</summary>
    public string Encoded => $"{Prefix}{Name}+{KeyHash:x8}+{Convert.ToBase64String([SignedNote.Ed25519, .. _key.GetEncoded()])}";

    /// <summary>A new key named <paramref name="name"/>, from the system's random generator.</summary>
    public static NoteSigner Generate(string name)
    {
        SignedNote.CheckName(name);
        return new NoteSigner(name, RandomNumberGenerator.GetBytes(32));
    }

    /// <summary>A signer key as <see cref="Encoded"/> writes it.</summary>
    /// <exception cref="FormatException">It is not one, naming what is wrong (never the key itself).</exception>
    public static NoteSigner Parse(string encoded)
    {
        var text = encoded.Trim();
        if (!text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new FormatException("it does not start with PRIVATE+KEY+");
        }

        var (name, hash, key) = SignedNote.SplitKey(text[Prefix.Length..]);
        if (key.Length != 33 || key[0] != SignedNote.Ed25519)
        {
            throw new FormatException("its key is not an Ed25519 private key (0x01 and 32 bytes, base64)");
        }

        var signer = new NoteSigner(name, key[1..]);
        return signer.KeyHash == hash ? signer : throw new FormatException($"its key hash {hash:x8} is not the hash of its key ({signer.KeyHash:x8})");
    }

    /// <summary>The signed note: <paramref name="text"/> (which ends with a newline), a blank line, and this key's signature line.</summary>
    public string Sign(string text)
    {
        if (!text.EndsWith('\n') || text.Contains("\n\n", StringComparison.Ordinal))
        {
            throw new ArgumentException("a note's text ends with a newline and holds no blank line", nameof(text));
        }

        var signer = new Ed25519Signer();
        signer.Init(true, _key);
        var bytes = Encoding.UTF8.GetBytes(text);
        signer.BlockUpdate(bytes, 0, bytes.Length);
        var signature = new byte[4 + 64];
        BinaryPrimitives.WriteUInt32BigEndian(signature, KeyHash);
        signer.GenerateSignature().CopyTo(signature, 4);
        return $"{text}\n\u2014 {Name} {Convert.ToBase64String(signature)}\n";
    }
}

/// <summary>A verifier key (<c>name+hash+base64(0x01 || public key)</c>): opens the notes its signer signed.</summary>
public sealed class NoteVerifier
{
    private readonly Ed25519PublicKeyParameters _key;

    private NoteVerifier(string name, uint keyHash, byte[] publicKey)
    {
        Name = name;
        KeyHash = keyHash;
        _key = new Ed25519PublicKeyParameters(publicKey, 0);
    }

    public string Name { get; }

    public uint KeyHash { get; }

    /// <exception cref="FormatException">It is not a verifier key, naming what is wrong.</exception>
    public static NoteVerifier Parse(string encoded)
    {
        var (name, hash, key) = SignedNote.SplitKey(encoded.Trim());
        if (key.Length != 33 || key[0] != SignedNote.Ed25519)
        {
            throw new FormatException("its key is not an Ed25519 public key (0x01 and 32 bytes, base64)");
        }

        return SignedNote.KeyHash(name, key.AsSpan(1)) == hash ? new NoteVerifier(name, hash, key[1..])
            : throw new FormatException($"its key hash {hash:x8} is not the hash of its name and key");
    }

    /// <summary>The note's text, when one of its signatures is this key's and verifies.</summary>
    /// <exception cref="NoteException">It is not a signed note, no signature is this key's, or this key's does not verify.</exception>
    public string Open(string note)
    {
        var split = note.LastIndexOf("\n\n", StringComparison.Ordinal);
        if (!note.EndsWith('\n') || split < 0)
        {
            throw new NoteException("it is not a signed note (its text, a blank line and signature lines, ending with a newline)");
        }

        if (split + 2 >= note.Length)
        {
            throw new NoteException("it ends with a blank line where its signature lines belong (a signed note ends with its last signature line and one newline)");
        }

        var text = note[..(split + 1)];
        var bytes = Encoding.UTF8.GetBytes(text);
        foreach (var line in note[(split + 2)..^1].Split('\n'))
        {
            var parts = line.Split(' ');
            if (parts.Length != 3 || parts[0] != "\u2014")
            {
                throw new NoteException($"its signature line '{line}' is not '\u2014 name signature'");
            }

            byte[] signature;
            try
            {
                signature = Convert.FromBase64String(parts[2]);
            }
            catch (FormatException)
            {
                throw new NoteException($"the signature of '{parts[1]}' is not base64");
            }

            if (parts[1] != Name || signature.Length != 4 + 64 || BinaryPrimitives.ReadUInt32BigEndian(signature) != KeyHash)
            {
                continue;
            }

            var verifier = new Ed25519Signer();
            verifier.Init(false, _key);
            verifier.BlockUpdate(bytes, 0, bytes.Length);
            return verifier.VerifySignature(signature[4..]) ? text
                : throw new NoteException($"the signature of {Name}+{KeyHash:x8} does not verify: the note was changed after it was signed, or signed by another key of that name");
        }

        throw new NoteException($"it holds no signature of {Name}+{KeyHash:x8}");
    }
}

/// <summary>A note that does not open with the key it was held to, and why.</summary>
public sealed class NoteException(string message) : Exception(message);

/// <summary>What signers and verifiers share: the key hash and the key encoding.</summary>
internal static class SignedNote
{
    public const byte Ed25519 = 0x01;

    /// <summary>The first 4 bytes (big-endian) of SHA-256(name || "\n" || 0x01 || public key).</summary>
    public static uint KeyHash(string name, ReadOnlySpan<byte> publicKey)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(name + "\n"));
        hash.AppendData([Ed25519]);
        hash.AppendData(publicKey);
        return BinaryPrimitives.ReadUInt32BigEndian(hash.GetHashAndReset());
    }

    public static void CheckName(string name)
    {
        if (name.Length == 0 || name.Contains('+') || name.Any(char.IsWhiteSpace))
        {
            throw new FormatException($"a key name is not empty and holds no '+' or white space: '{name}'");
        }
    }

    /// <summary>"name+hash+base64" into its parts.</summary>
    public static (string Name, uint Hash, byte[] Key) SplitKey(string text)
    {
        var parts = text.Split('+', 3);
        if (parts.Length != 3)
        {
            throw new FormatException("it is not name+hash+key");
        }

        CheckName(parts[0]);
        if (parts[1].Length != 8 || !uint.TryParse(parts[1], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var hash))
        {
            throw new FormatException($"its key hash '{parts[1]}' is not 8 hex digits");
        }

        try
        {
            return (parts[0], hash, Convert.FromBase64String(parts[2]));
        }
        catch (FormatException)
        {
            throw new FormatException("its key is not base64");
        }
    }
}
