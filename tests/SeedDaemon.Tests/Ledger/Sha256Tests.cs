using System.Security.Cryptography;
using System.Text;
using SeedDaemon.Ledger;

namespace SeedDaemon.Tests.Ledger;

/// <summary>
/// The ledger's SHA-256 (libcrypto's SHA256_Init/Update/Final called directly) against FIPS 180-4's
/// published examples and against .NET's SHA-256 at every length across several blocks.
/// </summary>
public sealed class Sha256Tests
{
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    public void Hashes_the_FIPS_180_examples(string message, string expected)
    {
        Assert.Equal(expected, Convert.ToHexStringLower(Sha256.HashData(Encoding.ASCII.GetBytes(message))));
    }

    [Fact]
    public void Gives_dotnets_hash_at_every_length_up_to_five_blocks_and_writes_into_a_longer_destination()
    {
        var data = new byte[5 * 64];
        new Random(7).NextBytes(data);
        var destination = new byte[40];
        for (var length = 0; length <= data.Length; length++)
        {
            Array.Fill(destination, (byte)0xEE);
            Sha256.HashData(data.AsSpan(0, length), destination);
            Assert.Equal(SHA256.HashData(data.AsSpan(0, length)), destination[..32]);
            Assert.All(destination[32..], b => Assert.Equal(0xEE, b));
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => Sha256.HashData(data, new byte[31]));
    }

    [Fact]
    public void Calls_libcrypto_directly_where_it_is_there()
    {
        // The ledger's hot paths (chain, leaves, nodes) are measured with the direct calls; losing them is a 3x slowdown, not a failure anyone would see.
        var here = OperatingSystem.IsLinux() && System.Runtime.InteropServices.NativeLibrary.TryLoad("libcrypto.so.3", out _);
        Assert.True(here || !OperatingSystem.IsLinux() || !File.Exists("/etc/debian_version"), "Debian 12's libssl3 should provide libcrypto.so.3");
        Assert.Equal(here, Sha256.Native);
    }
}
