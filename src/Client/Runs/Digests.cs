using System.Security.Cryptography;
using Google.Protobuf;
using SeedDaemon.V1;

namespace SeedDaemon.Client;

/// <summary>
/// The digests a fingerprint holds, made the way seedd_client makes them (docs/runs.md): generator
/// states and bytes as the first 16 bytes of SHA-256 over length-prefixed parts, scalars as the 8 bytes
/// of an IEEE double. The same bytes give the same digest in both languages.
/// </summary>
public static class Digests
{
    public const int Size = 16;

    public static Digest Generator(string name, ReadOnlySpan<byte> state) =>
        new() { Name = name, Kind = DigestKind.Generator, Value = ByteString.CopyFrom(SHA256.HashData(state)[..Size]) };

    public static Digest Scalar(string name, double value) =>
        new() { Name = name, Kind = DigestKind.Scalar, Value = ByteString.CopyFrom(BitConverter.GetBytes(value)) };

    /// <summary>A whole number as its double: one beyond 2^53, which a double does not hold exactly, would share its digest with its neighbours.</summary>
    public static Digest Scalar(string name, long value) => value is > 1L << 53 or < -(1L << 53)
        ? throw new ArgumentException($"cannot fingerprint '{name}': {value} is beyond 2^53, which a scalar digest (a double) holds exactly; give it as bytes", nameof(value))
        : Scalar(name, (double)value);

    public static Digest Bytes(string name, ReadOnlySpan<byte> bytes) =>
        new() { Name = name, Kind = DigestKind.Bytes, Value = ByteString.CopyFrom(Hash(bytes.ToArray())) };

    public static Digest Tensor(string name, byte[] digest) =>
        new() { Name = name, Kind = DigestKind.Tensor, Value = ByteString.CopyFrom(digest) };

    /// <summary>SHA-256 over each part's length (8 bytes, little-endian) and bytes, first 16 bytes.</summary>
    public static byte[] Hash(params byte[][] parts)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in parts)
        {
            hash.AppendData(BitConverter.GetBytes((long)part.Length));
            hash.AppendData(part);
        }

        return hash.GetHashAndReset()[..Size];
    }
}
