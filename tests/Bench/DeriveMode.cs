using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using SeedDaemon.Derivation;
using SeedDaemon.Testing;

namespace SeedDaemon.Bench;

/// <summary>The derivation against one SHA-256 of 16 bytes (BenchmarkDotNet), and against NumPy's SeedSequence.</summary>
internal static class DeriveMode
{
    public static void Run(string[] args)
    {
        const int seeds = 20_000_000;
        var column = SeedColumn.Create(42, "torch", "");
        ulong sink = 0;
        var stopwatch = Stopwatch.StartNew();
        for (uint worker = 0; worker < seeds; worker++)
        {
            sink ^= column.Derive(worker).Seed64;
        }

        var ours = seeds / stopwatch.Elapsed.TotalSeconds;
        Console.WriteLine($"seedseq-v1, cached column, one core: {ours:F0} seeds/s (checksum {sink:x})");

        const int numpyKeys = 20_000;
        var script = """
            import sys, time
            import numpy as np
            n = int(sys.argv[1])
            start = time.perf_counter()
            for worker in range(n):
                np.random.SeedSequence(42, spawn_key=(worker, 3209805623)).generate_state(4)
            print(n / (time.perf_counter() - start))
            """;
        var python = ProcessRunner.RunAsync(Python.Interpreter, ["-c", script, numpyKeys.ToString(CultureInfo.InvariantCulture)]).GetAwaiter().GetResult();
        var numpy = double.Parse(python.Stdout.Trim(), CultureInfo.InvariantCulture);
        Console.WriteLine($"NumPy SeedSequence(root, spawn_key).generate_state(4): {numpy:F0} seeds/s");
        Console.WriteLine($"derive/numpy = {ours / numpy:F0}");

        var summary = BenchmarkRunner.Run<DeriveBenchmarks>(args: args);
        var baseline = summary.Reports.First(r => r.BenchmarkCase.Descriptor.Baseline).ResultStatistics!.Mean;
        foreach (var report in summary.Reports.Where(r => !r.BenchmarkCase.Descriptor.Baseline))
        {
            Console.WriteLine($"{report.BenchmarkCase.Descriptor.WorkloadMethod.Name}/sha256_16 = {report.ResultStatistics!.Mean / baseline:F2} (time ratio; {report.ResultStatistics.Mean:F1} ns vs {baseline:F1} ns)");
        }
    }
}

[ShortRunJob]
[MemoryDiagnoser]
public class DeriveBenchmarks
{
    private readonly byte[] _sixteen = RandomNumberGenerator.GetBytes(16);
    private readonly byte[] _hash = new byte[32];
    private readonly SeedColumn _column = SeedColumn.Create(42, "torch", "");
    private uint _worker;

    [Benchmark(Baseline = true)]
    public byte Sha256_of_16_bytes()
    {
        SHA256.HashData(_sixteen, _hash);
        return _hash[0];
    }

    [Benchmark]
    public ulong Derive_cached_column() => _column.Derive(_worker++ & 0x7FFFFFFF).Seed64;

    [Benchmark]
    public ulong Derive_with_new_column() => SeedSeqV1.Derive(42, _worker++ & 0x7FFFFFFF, "numpy", "dataloader").Seed64;
}
