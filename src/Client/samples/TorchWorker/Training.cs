using System.Globalization;
using SeedDaemon.Client;
using SeedDaemon.Client.Torch;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// --train N: a small training loop (an MLP with dropout, SGD) that fingerprints every step into a
/// seedd run (docs/runs.md), the twin of seedd_client's: the run id from --run or SEEDD_RUN; with
/// --extra-draw-step S one more torch.rand(1) after step S; with --save-state FILE --save-at S the model
/// and the RNG state of step S go to FILE and FILE.model; with --resume-from RUN:S they are loaded
/// (the RNG state restored unless --no-restore), checked against RUN's fingerprint at S, and training
/// continues at S + 1. Prints "run: ID", "sent: N", "dropped: N" and "resume check: NAMES|ok".
/// </summary>
internal static class Training
{
    public static async Task RunAsync(SeedClient client, TorchSeedState seeded, Arguments options, TrainOptions train)
    {
        using var model = nn.Sequential(("0", nn.Linear(8, 16)), ("1", nn.Tanh()), ("2", nn.Dropout(0.1)), ("3", nn.Linear(16, 1)));
        using var optimizer = optim.SGD(model.parameters(), 0.05);
        var first = 0L;
        RunResumePoint? resumedFrom = null;
        RngState? restored = null;
        if (train.ResumeFrom is { } resume)
        {
            var colon = resume.LastIndexOf(':');
            resumedFrom = new RunResumePoint(resume[..colon], long.Parse(resume[(colon + 1)..], CultureInfo.InvariantCulture));
            model.load(train.StateFile + ".model");
            restored = RngState.FromBytes(await File.ReadAllBytesAsync(train.StateFile!));
            if (!train.NoRestore)
            {
                restored.Restore(seeded);
            }

            first = resumedFrom.Step + 1;
        }

        var identity = new WorkerIdentity(options.Client.Address, options.Experiment, options.Worker, "--worker", null, null);
        await using var run = client.StartRun(train.RunId, identity, resumedFrom, TorchFingerprints.Environment());
        Console.WriteLine($"run: {run.RunId}");
        if (resumedFrom is not null)
        {
            var differing = await run.CheckRestoredAsync(RngState.Capture(seeded), throwOnMismatch: false);
            Console.WriteLine("resume check: " + (differing.Count == 0 ? "ok" : string.Join(",", differing)));

            // The documented call: the state loaded from the checkpoint, which is the original's whether or not it was restored.
            var ofTheState = await run.CheckRestoredAsync(restored!, throwOnMismatch: false, seeded: seeded);
            Console.WriteLine("resume check of the state: " + (ofTheState.Count == 0 ? "ok" : string.Join(",", ofTheState)));
        }

        for (var step = first; step < train.Steps; step++)
        {
            using var scope = NewDisposeScope();
            var x = randn(32, 8);
            var loss = nn.functional.mse_loss(model.call(x), x.sum(1, keepdim: true).sin());
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (step == train.ExtraDrawStep)
            {
                rand(1);
            }

            run.Fingerprint(step, seeded, new Dictionary<string, object> { ["loss"] = loss.item<float>(), ["model"] = model });
            if (step == train.SaveAt && train.StateFile is { } file)
            {
                model.save(file + ".model");
                await File.WriteAllBytesAsync(file, RngState.Capture(seeded).Bytes);
            }
        }

        await run.FlushAsync(TimeSpan.FromMinutes(1));
        Console.WriteLine($"sent: {run.Sent}");
        Console.WriteLine($"dropped: {run.Dropped}");
    }
}

internal sealed record TrainOptions(long Steps, string? RunId, long ExtraDrawStep, string? StateFile, long SaveAt, string? ResumeFrom, bool NoRestore);
