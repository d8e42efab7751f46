using System.Globalization;
using SeedDaemon.Client;
using SeedDaemon.Client.Torch;
using TorchSharp;

// dotnet run -c Release --project src/Client/samples/TorchWorker -- --address http://127.0.0.1:50051 --experiment ID --worker N
//   [--root R]        first create the experiment with this root (needs the admin role when the daemon has tokens);
//                     without it the experiment must exist
//   [--draws full]    also print randint, randperm and nn.Linear initial weights
//   [--checkpoint]    also capture the RNG state, draw, restore it and draw again
// Without --address/--experiment/--worker the worker identity comes from SEEDD_ADDRESS,
// SEEDD_EXPERIMENT and SEEDD_WORKER or RANK; the token from SEEDD_TOKEN; the retry window from
// SEEDD_RETRY_TIMEOUT (seconds, default 60).
try
{
    var options = Arguments.Parse(args);
    using var client = new SeedClient(options.Client);
    if (options.Root is not null)
    {
        await client.CreateExperimentAsync(options.Experiment, options.Root);
    }

    var columns = ColumnKey.Default.Concat([new ColumnKey("torch", "dataloader"), new ColumnKey("torch", "augment")]);
    var bundle = await client.GetBundleAsync(options.Experiment, options.Worker, columns);

    using var seeded = TorchSeeding.Apply(bundle);
    Console.WriteLine($"experiment: {bundle.ExperimentId}");
    Console.WriteLine($"worker: {bundle.Worker}");
    Console.WriteLine($"root: {bundle.Root}");
    foreach (var (column, seed) in bundle.Seeds.OrderBy(s => s.Key.ToString(), StringComparer.Ordinal))
    {
        Console.WriteLine($"seed {column}: {seed.Seed}");
    }

    Console.Write(seeded.Report);

    Console.WriteLine("torch.rand(8): " + Format(torch.rand(8)));
    Console.WriteLine("torch.randn(8): " + Format(torch.randn(8)));
    if (seeded.Report.CudaAvailable)
    {
        Console.WriteLine("cuda torch.rand(8): " + Format(torch.rand(8, device: torch.CUDA).cpu()));
        Console.WriteLine("cuda torch.randn(8): " + Format(torch.randn(8, device: torch.CUDA).cpu()));
    }
    if (options.FullDraws)
    {
        Console.WriteLine("torch.randint(0, 1000, (8,)): " + Format(torch.randint(0, 1000, [8], dtype: torch.int64)));
        Console.WriteLine("torch.randperm(10): " + Format(torch.randperm(10)));
        using var linear = torch.nn.Linear(4, 3);
        Console.WriteLine("nn.Linear(4, 3).weight: " + Format(linear.weight!));
        Console.WriteLine("nn.Linear(4, 3).bias: " + Format(linear.bias!));
        Console.WriteLine("dataloader torch.rand(4): " + Format(torch.rand(4, generator: seeded.Generator("dataloader"))));
    }

    if (options.Train is { } train)
    {
        await Training.RunAsync(client, seeded, options, train);
    }

    if (options.Checkpoint)
    {
        // What a training loop does at a checkpoint and on resume: the resumed draws must repeat.
        var checkpoint = RngState.Capture(seeded);
        var afterCapture = Format(torch.rand(8)) + " | " + Format(torch.rand(4, generator: seeded.Generator("augment")));
        RngState.FromBytes(checkpoint.Bytes).Restore(seeded);
        var afterRestore = Format(torch.rand(8)) + " | " + Format(torch.rand(4, generator: seeded.Generator("augment")));
        Console.WriteLine($"checkpoint rng state sha256: {checkpoint.Sha256}");
        Console.WriteLine($"draws after capture: {afterCapture}");
        Console.WriteLine($"draws after restore: {afterRestore}");
    }

    return 0;
}
catch (HelpRequestedException help)
{
    Console.WriteLine(help.Message);
    return 0;
}
catch (Exception error) when (error is ArgumentException or FormatException or TorchUnavailableException or SeedVerificationException or InvalidOperationException or Grpc.Core.RpcException)
{
    Console.Error.WriteLine(error is Grpc.Core.RpcException rpc ? $"TorchWorker: seedd answered {rpc.StatusCode}: {rpc.Status.Detail}" : $"TorchWorker: {error.Message}");
    return 1;
}

// Nine significant digits, as Python's '{:.9g}' writes them: enough to tell any two float32 apart.
static string Format(torch.Tensor tensor)
{
    using (tensor)
    {
        var flat = tensor.flatten();
        return tensor.dtype switch
        {
            torch.ScalarType.Float32 => string.Join(' ', flat.data<float>().ToArray().Select(v => v.ToString("G9", CultureInfo.InvariantCulture).Replace('E', 'e'))),
            torch.ScalarType.Int64 => string.Join(' ', flat.data<long>().ToArray().Select(v => v.ToString(CultureInfo.InvariantCulture))),
            _ => throw new NotSupportedException($"dtype {tensor.dtype}"),
        };
    }
}

/// <summary>--help: the usage, printed, and exit 0.</summary>
internal sealed class HelpRequestedException(string usage) : Exception(usage);

internal sealed record Arguments(SeedClientOptions Client, string Experiment, uint Worker, string? Root, bool FullDraws, bool Checkpoint, TrainOptions? Train = null)
{
    public const string Usage = """
        Usage: TorchWorker [--address URL] [--experiment ID] [--worker N] [--root R] [--draws full] [--checkpoint]

        Fetches one worker's seeds from seedd, applies them to TorchSharp and prints the seeds, what
        was applied and what was not, and the first draws.

          --address URL      seedd (default $SEEDD_ADDRESS, else http://127.0.0.1:50051)
          --experiment ID    the experiment (default $SEEDD_EXPERIMENT); it must exist unless --root is given
          --worker N         the worker (default $SEEDD_WORKER, else torchrun's RANK, else 0)
          --root R           first create the experiment with this root (the admin role under auth)
          --draws full       also print randint, randperm and nn.Linear's initial weights
          --checkpoint       also capture the RNG state, draw, restore it and draw again
          --train N          then train N steps and fingerprint each into a run (docs/runs.md), with
                             --run ID (default $SEEDD_RUN), --extra-draw-step S, --save-state FILE --save-at S,
                             --resume-from RUN:S (with --save-state FILE; --no-restore skips restoring the RNG state)
          --help             show this help

        The token comes from SEEDD_TOKEN, the retry window from SEEDD_RETRY_TIMEOUT (seconds, default 60).
        """;

    public static Arguments Parse(string[] args)
    {
        var identity = WorkerIdentity.FromEnvironment();
        var client = identity.ToOptions();
        string? experiment = identity.ExperimentId;
        var worker = identity.Worker;
        string? root = null;
        var full = false;
        var checkpoint = false;
        long steps = 0, extraDraw = -1, saveAt = -1;
        string? runId = null, stateFile = null, resumeFrom = null;
        var noRestore = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--address":
                    var given = SeedClientOptions.ForAddress(Value());
                    given.Token = client.Token;
                    given.RetryTimeout = client.RetryTimeout;
                    client = given;
                    break;
                case "--experiment": experiment = Value(); break;
                case "--worker": worker = uint.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--root": root = Value(); break;
                case "--draws": full = Value() == "full"; break;
                case "--checkpoint": checkpoint = true; break;
                case "--train": steps = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--run": runId = Value(); break;
                case "--extra-draw-step": extraDraw = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--save-state": stateFile = Value(); break;
                case "--save-at": saveAt = long.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--resume-from": resumeFrom = Value(); break;
                case "--no-restore": noRestore = true; break;
                case "--help" or "-h": throw new HelpRequestedException(Usage);
                default: throw new ArgumentException($"unknown argument '{args[i]}'. {Usage}");
            }
        }

        var train = steps > 0 ? new TrainOptions(steps, runId, extraDraw, stateFile, saveAt, resumeFrom, noRestore) : null;
        return new Arguments(client, experiment ?? throw new ArgumentException("--experiment (or SEEDD_EXPERIMENT) is required."), worker, root, full, checkpoint, train);
    }
}
