using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace SeedDaemon.Ledger;

/// <summary>
/// SHA-256 of the short messages the ledger hashes by the million (a leaf, a node, a chain event).
/// .NET's <see cref="SHA256"/> and <see cref="IncrementalHash"/> reach OpenSSL through its EVP
/// interface and a shim that clears OpenSSL's error queue on every call; for a 100-byte message that
/// costs three times the hash itself (measured on a 2-core VM: 500 ns against 156 ns for 172 bytes,
/// most of it in ERR_clear_error). Where libcrypto.so.3 exports SHA256_Init/Update/Final (Linux with
/// OpenSSL 3, the library .NET itself loads), they are called directly, after a self-test against
/// <see cref="SHA256"/>; anywhere else this is <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/>.
/// </summary>
public static unsafe class Sha256
{
    public const int HashSize = 32;

    // sizeof(SHA256_CTX) is 112 bytes in OpenSSL 3 (eight hash words, two length words, a 64-byte block, two counters).
    private const int ContextSize = 128;

    private static readonly delegate* unmanaged<byte*, int> s_init;
    private static readonly delegate* unmanaged<byte*, byte*, nuint, int> s_update;
    private static readonly delegate* unmanaged<byte*, byte*, int> s_final;

    static Sha256()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libcrypto.so.3", out var library))
        {
            return;
        }

        if (NativeLibrary.TryGetExport(library, "SHA256_Init", out var init)
            && NativeLibrary.TryGetExport(library, "SHA256_Update", out var update)
            && NativeLibrary.TryGetExport(library, "SHA256_Final", out var final))
        {
            s_init = (delegate* unmanaged<byte*, int>)init;
            s_update = (delegate* unmanaged<byte*, byte*, nuint, int>)update;
            s_final = (delegate* unmanaged<byte*, byte*, int>)final;
            try
            {
                if (!SelfTest())
                {
                    s_init = null;
                }
            }
            catch (CryptographicException)
            {
                s_init = null;
            }
        }
    }

    /// <summary>Whether libcrypto's SHA-256 is called directly (else .NET's).</summary>
    public static bool Native => s_init is not null;

    public static byte[] HashData(ReadOnlySpan<byte> data)
    {
        var hash = new byte[HashSize];
        HashData(data, hash);
        return hash;
    }

    /// <summary>Writes SHA-256 of <paramref name="data"/> into the first 32 bytes of <paramref name="destination"/>.</summary>
    public static void HashData(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, HashSize, nameof(destination));
        if (s_init is null)
        {
            SHA256.HashData(data, destination);
            return;
        }

        var context = stackalloc byte[ContextSize];
        fixed (byte* input = data)
        fixed (byte* output = destination)
        {
            if (s_init(context) != 1 || s_update(context, input, (nuint)data.Length) != 1 || s_final(output, context) != 1)
            {
                throw new CryptographicException("OpenSSL's SHA256_Init/Update/Final failed.");
            }
        }
    }

    /// <summary>The direct calls must give .NET's answers, over lengths across block and padding boundaries.</summary>
    private static bool SelfTest()
    {
        var data = new byte[300];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (byte)((i * 167) + 13);
        }

        Span<byte> direct = stackalloc byte[HashSize];
        Span<byte> expected = stackalloc byte[HashSize];
        foreach (var length in (int[])[0, 1, 55, 56, 64, 65, 119, 300])
        {
            HashData(data.AsSpan(0, length), direct);
            SHA256.HashData(data.AsSpan(0, length), expected);
            if (!direct.SequenceEqual(expected))
            {
                return false;
            }
        }

        return true;
    }
}
