using System.Collections.Concurrent;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using SeedDaemon.V1;

namespace SeedDaemon.Testing;

/// <summary>
/// Sends generated and mutated requests to every method: random bytes, truncated and over-long
/// messages, wrong wire types, huge length prefixes, deeply nested unknown fields, and valid
/// messages carrying maximum-length and odd Unicode strings (NUL, RTL marks, invalid UTF-8).
/// Counts the statuses that came back and the seeds that were issued.
/// </summary>
public sealed class Fuzzer(GrpcChannel channel, int seed)
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create<byte[]>(b => b, b => b);

    private static readonly (string Service, string Method, Func<Random, IMessage> Valid)[] Targets =
    [
        ("seeddaemon.v1.SeedService", "CreateExperiment", r => new CreateExperimentRequest { ExperimentId = Id(r), Root = Number(r), Labels = { [Text(r, 8)] = Text(r, 300) } }),
        ("seeddaemon.v1.SeedService", "GetExperiment", r => new GetExperimentRequest { ExperimentId = Id(r) }),
        ("seeddaemon.v1.SeedService", "ListExperiments", r => new ListExperimentsRequest { PageSize = r.Next(-5, 2000), PageToken = r.Next(2) == 0 ? "" : Text(r, 40) }),
        ("seeddaemon.v1.SeedService", "FreezeExperiment", r => new FreezeExperimentRequest { ExperimentId = r.Next(2) == 0 ? "fuzz/frozen" : Text(r, 140) }),
        ("seeddaemon.v1.SeedService", "GetSeed", r => Key(r)),
        ("seeddaemon.v1.SeedService", "BatchGetSeeds", r => new BatchGetSeedsRequest { Requests = { Enumerable.Range(0, r.Next(0, 20)).Select(_ => Key(r)) } }),
        ("seeddaemon.v1.AuditService", "ListIssuedSeeds", r => new ListIssuedSeedsRequest { ExperimentId = Id(r), PageSize = r.Next(-5, 2000), PageToken = Text(r, 30) }),
        ("seeddaemon.v1.AuditService", "ListEvents", r => new ListEventsRequest { ExperimentId = Id(r), WorkerMin = (uint)r.Next(), WorkerMax = (uint)r.Next(), Library = Text(r, 10), PageSize = r.Next(-5, 2000) }),
        ("seeddaemon.v1.AuditService", "VerifySeed", r => new VerifySeedRequest { ExperimentId = Id(r), Worker = (uint)r.NextInt64(0, uint.MaxValue + 1L), Library = Library(r), Seed = (ulong)r.NextInt64() }),
        ("seeddaemon.v1.AuditService", "VerifyLedger", r => new VerifyLedgerRequest { ExperimentId = Id(r) }),
        ("seeddaemon.v1.AuditService", "ExportManifest", r => new ExportManifestRequest { ExperimentId = Id(r) }),
    ];

    public ConcurrentDictionary<StatusCode, int> Statuses { get; } = new();

    /// <summary>Statuses per method, for the report.</summary>
    public ConcurrentDictionary<(string Method, StatusCode Status), int> ByMethod { get; } = new();

    /// <summary>Seeds the daemon said it issued (each one must have exactly one ledger event).</summary>
    public int IssuedKeys => _issuedKeys;

    public int Sent => _sent;

    private int _issuedKeys;
    private int _sent;

    public async Task RunAsync(int requests, int concurrency)
    {
        var invoker = channel.CreateCallInvoker();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var random = new Random(seed + worker);
            while (Interlocked.Increment(ref next) < requests)
            {
                var target = Targets[random.Next(Targets.Length)];
                var payload = Payload(random, target.Valid(random));
                var type = target.Method == "ExportManifest" ? MethodType.ServerStreaming : MethodType.Unary;
                var method = new Method<byte[], byte[]>(type, target.Service, target.Method, Raw, Raw);
                var status = StatusCode.OK;
                try
                {
                    var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(30));
                    if (type == MethodType.Unary)
                    {
                        var response = await invoker.AsyncUnaryCall(method, null, options, payload);
                        CountIssued(target.Method, response);
                    }
                    else
                    {
                        using var call = invoker.AsyncServerStreamingCall(method, null, options, payload);
                        while (await call.ResponseStream.MoveNext(CancellationToken.None))
                        {
                        }
                    }
                }
                catch (RpcException error)
                {
                    status = error.StatusCode;
                }

                Statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
                ByMethod.AddOrUpdate((target.Method, status), 1, (_, n) => n + 1);
                Interlocked.Increment(ref _sent);
            }
        })));
    }

    private void CountIssued(string method, byte[] response)
    {
        if (method == "GetSeed")
        {
            Interlocked.Increment(ref _issuedKeys);
        }
        else if (method == "BatchGetSeeds")
        {
            Interlocked.Add(ref _issuedKeys, BatchGetSeedsResponse.Parser.ParseFrom(response).Seeds.Count);
        }
    }

    private static byte[] Payload(Random r, IMessage valid)
    {
        var bytes = valid.ToByteArray();
        return r.Next(9) switch
        {
            0 => RandomBytes(r, r.Next(0, 512)),
            1 => bytes.Length == 0 ? bytes : bytes[..r.Next(bytes.Length)],
            2 => [.. bytes, .. RandomBytes(r, r.Next(1, 64))],
            3 => Flip(r, bytes),
            4 => WrongWireType(r),
            5 => HugeLength(r),
            6 => DeepUnknown(r.Next(50, 400)),
            _ => bytes,
        };
    }

    private static byte[] RandomBytes(Random r, int length)
    {
        var bytes = new byte[length];
        r.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Flip(Random r, byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        for (var i = 0; i < Math.Min(3, copy.Length); i++)
        {
            copy[r.Next(copy.Length)] ^= (byte)(1 << r.Next(8));
        }

        return copy;
    }

    private static byte[] WrongWireType(Random r)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        for (var i = 0; i < r.Next(1, 6); i++)
        {
            var field = r.Next(1, 16);
            switch (r.Next(4))
            {
                case 0:
                    output.WriteTag(field, WireFormat.WireType.Varint);
                    output.WriteUInt64((ulong)r.NextInt64());
                    break;
                case 1:
                    output.WriteTag(field, WireFormat.WireType.Fixed64);
                    output.WriteFixed64((ulong)r.NextInt64());
                    break;
                case 2:
                    output.WriteTag(field, WireFormat.WireType.Fixed32);
                    output.WriteFixed32((uint)r.Next());
                    break;
                default:
                    output.WriteTag(field, WireFormat.WireType.LengthDelimited);
                    output.WriteBytes(ByteString.CopyFrom(RandomBytes(r, r.Next(0, 40))));
                    break;
            }
        }

        output.Flush();
        return stream.ToArray();
    }

    private static byte[] HugeLength(Random r)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(r.Next(1, 5), WireFormat.WireType.LengthDelimited);
        output.WriteUInt32(r.Next(2) == 0 ? int.MaxValue : (uint)r.Next(1000, 100_000_000));
        output.WriteRawTag(1, 2, 3);
        output.Flush();
        return stream.ToArray();
    }

    /// <summary>An unknown field (number 99) holding itself, <paramref name="depth"/> levels deep.</summary>
    private static byte[] DeepUnknown(int depth)
    {
        var inner = Array.Empty<byte>();
        for (var i = 0; i < depth; i++)
        {
            using var stream = new MemoryStream();
            var output = new CodedOutputStream(stream);
            output.WriteTag(99, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(inner));
            output.Flush();
            inner = stream.ToArray();
        }

        return inner;
    }

    private static GetSeedRequest Key(Random r) => new() { ExperimentId = Id(r), Worker = r.Next(4) == 0 ? uint.MaxValue : (uint)r.Next(0, 50), Library = Library(r), Stream = r.Next(3) == 0 ? Text(r, 70) : "" };

    private static string Id(Random r) => r.Next(3) switch
    {
        0 => "fuzz/exp",
        1 => "fuzz/frozen",
        _ => Text(r, 140),
    };

    private static string Library(Random r) => r.Next(3) == 0 ? Text(r, 70) : new[] { "torch", "numpy", "python.hash", "dotnet", "custom-lib" }[r.Next(5)];

    private static string Number(Random r) => r.Next(4) switch
    {
        0 => "",
        1 => "340282366920938463463374607431768211456",
        2 => r.NextInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => Text(r, 50),
    };

    /// <summary>Printable, maximal, or odd text: NUL, bidi controls, astral characters.</summary>
    private static string Text(Random r, int maxLength)
    {
        string[] odd = ["\0", "\u202E", "\u200F", "\u2066", "\uFEFF", "😀", "é", "/", ".", "-", "a", "Z", "0", " ", "\n", "|", "}"];
        var length = r.Next(4) == 0 ? maxLength : r.Next(0, maxLength);
        var text = new StringBuilder();
        while (text.Length < length)
        {
            text.Append(r.Next(3) == 0 ? odd[r.Next(odd.Length)] : ((char)r.Next('a', 'z' + 1)).ToString());
        }

        return text.ToString();
    }
}
