using System.CommandLine;
using Grpc.Core;
using SeedDaemon.Ctl.Manifest;
using SeedDaemon.Ctl.Output;
using SeedDaemon.Manifest;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl export ID [-o FILE] — the experiment's manifest, streamed.</summary>
public static class ExportCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("experiment-id");
        var output = new Option<FileInfo?>("--out", "-o") { Description = "write the manifest here instead of stdout" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "no progress on stderr" };
        var command = new Command("export", "Export an experiment's manifest (JSON): root, every issued seed, every ledger event, the chain head.") { id, output, quiet };
        Common.Action(command, async c =>
        {
            var file = c.Parse.GetValue(output);
            if (file is null)
            {
                await using var stdout = Console.OpenStandardOutput();
                await ExportAsync(c, stdout, c.Value(id), c.Value(quiet));
                return ExitCodes.Ok;
            }

            await OutputFile.WriteAsync(file, stream => ExportAsync(c, stream, c.Value(id), c.Value(quiet)));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task ExportAsync(Common.Context c, Stream stream, string experimentId, bool quiet)
    {
        await using var writer = new ManifestWriter(stream);
        var progress = new Progress(quiet);
        using var call = new AuditService.AuditServiceClient(c.Invoker).ExportManifest(new ExportManifestRequest { ExperimentId = experimentId, IncludeRuns = true }, cancellationToken: c.CancellationToken);
        await foreach (var part in call.ResponseStream.ReadAllAsync(c.CancellationToken))
        {
            await writer.WriteAsync(part);
            progress.Report(writer.Seeds, writer.Events);
        }

        progress.Done(writer.Seeds, writer.Events);
    }

    /// <summary>Progress on stderr: a line that updates in place on a terminal, a line per 100,000 records otherwise.</summary>
    private sealed class Progress(bool quiet)
    {
        private long _lastReported;

        public void Report(long seeds, long events)
        {
            var total = seeds + events;
            if (quiet || total - _lastReported < (Console.IsErrorRedirected ? 100_000 : 5_000))
            {
                return;
            }

            _lastReported = total;
            Console.Error.Write(Console.IsErrorRedirected ? $"export: {seeds} seeds, {events} events\n" : $"\rexport: {seeds} seeds, {events} events");
        }

        public void Done(long seeds, long events)
        {
            if (!quiet)
            {
                Console.Error.WriteLine((Console.IsErrorRedirected ? "" : "\r") + $"export: {seeds} seeds, {events} events, done");
            }
        }
    }
}
