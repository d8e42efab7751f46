using System.Globalization;
using SeedDaemon.V1;
using TorchSharp;
using static TorchSharp.torch;

namespace SeedDaemon.Client.Torch;

/// <summary>
/// Fingerprints with TorchSharp (docs/runs.md): the digests of every generator RngState captures
/// (rng.torch.cpu, rng.stream.NAME) and of the values named: a number by its bits, a tensor or a
/// module by a digest of dtype, shape and bytes (state_dict order, names included): SHA-256 over
/// the same parts seedd_client hashes for a CPU tensor, so the same tensor gives the same digest in Python.
/// </summary>
public static class TorchFingerprints
{
    private const long ChunkBytes = 1L << 24;

    /// <summary>Queues step <paramref name="step"/>'s digests: every generator of this process and of <paramref name="seeded"/>, and <paramref name="values"/>.</summary>
    public static void Fingerprint(this SeedRun run, long step, TorchSeedState? seeded, IReadOnlyDictionary<string, object>? values = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        var digests = GeneratorDigests(RngState.Capture(seeded)).Select(g => new Digest { Name = g.Key, Kind = DigestKind.Generator, Value = Google.Protobuf.ByteString.CopyFrom(g.Value) }).ToList();
        foreach (var (name, value) in values ?? new Dictionary<string, object>())
        {
            digests.Add(ValueDigest(name, value));
        }

        run.Fingerprint(step, digests);
    }

    /// <summary>
    /// The resume check for a restored <see cref="RngState"/> (see <see cref="SeedRun.CheckRestoredAsync"/>),
    /// which also holds this process's generators (those of <paramref name="seeded"/> too) against it.
    /// </summary>
    public static Task<IReadOnlyList<string>> CheckRestoredAsync(this SeedRun run, RngState restored, long? step = null, bool throwOnMismatch = true, TorchSeedState? seeded = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(restored);
        return run.CheckRestoredAsync(GeneratorDigests(restored), step, throwOnMismatch, GeneratorDigests(RngState.Capture(seeded)), cancellationToken);
    }

    /// <summary>The check as the SDK before <c>seeded</c> had it (kept for code built against that).</summary>
    [System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
    public static Task<IReadOnlyList<string>> CheckRestoredAsync(this SeedRun run, RngState restored, long? step, bool throwOnMismatch, CancellationToken cancellationToken) =>
        run.CheckRestoredAsync(restored, step, throwOnMismatch, seeded: null, cancellationToken);

    /// <summary>rng.torch.cpu and rng.stream.NAME → the first 16 bytes of SHA-256 of the generator's state.</summary>
    public static IReadOnlyDictionary<string, byte[]> GeneratorDigests(RngState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Parts.ToDictionary(
            p => p.Key == "cpu" ? "rng.torch.cpu" : p.Key.StartsWith("stream:", StringComparison.Ordinal) ? ("rng.stream." + p.Key["stream:".Length..]) is var n && n.Length > 64 ? n[..64] : n : "rng." + p.Key,
            p => System.Security.Cryptography.SHA256.HashData(p.Value)[..Digests.Size],
            StringComparer.Ordinal);
    }

    /// <summary>The environment TorchSharp sees: its version, threads, determinism, CUDA devices (add it to StartRun's environment).</summary>
    public static Dictionary<string, string> Environment()
    {
        TorchRuntime.EnsureLoaded();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["torchsharp"] = typeof(torch).Assembly.GetName().Version?.ToString() ?? "?",
            ["torch.threads"] = torch.get_num_threads().ToString(CultureInfo.InvariantCulture),
            ["torch.interop_threads"] = torch.get_num_interop_threads().ToString(CultureInfo.InvariantCulture),
            ["torch.cuda_available"] = TorchRuntime.CudaAvailable() ? "True" : "False",
        };
        return environment;
    }

    public static Digest ValueDigest(string name, object value) => value switch
    {
        double d => Digests.Scalar(name, d),
        float f => Digests.Scalar(name, f),
        int i => Digests.Scalar(name, i),
        long l => Digests.Scalar(name, l),
        byte[] bytes => Digests.Bytes(name, bytes),
        nn.Module module => Digests.Tensor(name, ModuleDigest(module)),
        Tensor { Dimensions: 0, dtype: ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte } whole => Digests.Scalar(name, whole.ToInt64()),
        Tensor { Dimensions: 0 } scalar => Digests.Scalar(name, scalar.ToDouble()),
        Tensor tensor => Digests.Tensor(name, TensorDigest(tensor)),
        _ => throw new ArgumentException($"cannot fingerprint '{name}', a {value?.GetType().Name ?? "null"}: give a number, a tensor, a module or bytes", nameof(value)),
    };

    /// <summary>
    /// A digest of dtype, shape and bytes in row-major order: SHA-256 over the parts seedd_client
    /// hashes for a CPU tensor. A CUDA tensor is hashed 16 MiB at a time as it comes to the host
    /// (TorchSharp 0.107 has no view that reinterprets a dtype, which a digest on the device needs), so
    /// host memory stays bounded and a tensor has the same digest on either device.
    /// </summary>
    public static byte[] TensorDigest(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var scope = NewDisposeScope();
        var flat = tensor.detach().contiguous().reshape(-1);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var part in new[] { Text(DType(tensor)), Text(Shape(tensor)) })
        {
            hash.AppendData(BitConverter.GetBytes((long)part.Length));
            hash.AppendData(part);
        }

        hash.AppendData(BitConverter.GetBytes(flat.numel() * flat.ElementSize));
        var elements = Math.Max(1, ChunkBytes / flat.ElementSize);
        for (long start = 0; start < flat.numel(); start += elements)
        {
            using var chunk = flat[TensorIndex.Slice(start, Math.Min(start + elements, flat.numel()))];
            using var host = chunk.device_type == DeviceType.CPU ? chunk.alias() : chunk.cpu();
            hash.AppendData(host.bytes);
        }

        return hash.GetHashAndReset()[..Digests.Size];
    }

    /// <summary>A model's parameters and buffers in state_dict order, names included.</summary>
    public static byte[] ModuleDigest(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var parts = new List<byte[]>();
        foreach (var (name, tensor) in module.state_dict())
        {
            parts.Add(Text(name));
            parts.Add(TensorDigest(tensor));
        }

        return Digests.Hash([.. parts]);
    }

    private static byte[] Text(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    /// <summary>As Python prints a torch dtype ("torch.float32").</summary>
    private static string DType(Tensor tensor) => "torch." + tensor.dtype switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Int64 => "int64",
        ScalarType.Int32 => "int32",
        ScalarType.Int16 => "int16",
        ScalarType.Int8 => "int8",
        ScalarType.Byte => "uint8",
        ScalarType.Bool => "bool",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>As Python prints a shape tuple: "()", "(16,)", "(16, 8)".</summary>
    private static string Shape(Tensor tensor) => tensor.shape.Length switch
    {
        0 => "()",
        1 => $"({tensor.shape[0]},)",
        _ => "(" + string.Join(", ", tensor.shape) + ")",
    };
}
