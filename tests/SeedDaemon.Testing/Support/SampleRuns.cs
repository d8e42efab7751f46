using Google.Protobuf;
using Grpc.Net.Client;
using SeedDaemon.V1;

namespace SeedDaemon.Testing;

/// <summary>A small run record for manifest tests: run "first" (workers 0 and 1, 3 steps, a conflict at step 1 of worker 1) and "resumed" (worker 0, from first@1).</summary>
public static class SampleRuns
{
    public const int Processes = 3;
    public const int Fingerprints = 7;

    public static async Task RecordAsync(GrpcChannel channel, string experimentId)
    {
        var runs = new RunService.RunServiceClient(channel);
        await runs.RecordProcessAsync(new RecordProcessRequest { ExperimentId = experimentId, RunId = "first", Worker = 0, Environment = { ["host"] = "node-0", ["torch.threads"] = "4" } });
        foreach (var worker in new uint[] { 0, 1 })
        {
            await runs.ReportFingerprintsAsync(Report(experimentId, "first", worker, 0, 1, 2));
        }

        var conflict = Report(experimentId, "first", 1, 1);
        conflict.Steps[0].Digests[0].Value = ByteString.CopyFrom(0xFF, 0xFE);
        await runs.ReportFingerprintsAsync(conflict);
        await runs.RecordProcessAsync(new RecordProcessRequest { ExperimentId = experimentId, RunId = "resumed", Worker = 0, ResumedFrom = new ResumePoint { RunId = "first", Step = 1 } });
        await runs.ReportFingerprintsAsync(Report(experimentId, "resumed", 0, 2));
    }

    private static ReportFingerprintsRequest Report(string experimentId, string run, uint worker, params long[] steps)
    {
        var request = new ReportFingerprintsRequest { ExperimentId = experimentId, RunId = run, Worker = worker };
        foreach (var step in steps)
        {
            request.Steps.Add(new StepFingerprint
            {
                Step = step,
                Digests =
                {
                    new Digest { Name = "rng.torch.cpu", Kind = DigestKind.Generator, Value = ByteString.CopyFrom((byte)step, (byte)worker) },
                    new Digest { Name = "loss", Kind = DigestKind.Scalar, Value = ByteString.CopyFrom(BitConverter.GetBytes(0.5 / (step + 1))) },
                },
            });
        }

        return request;
    }
}
