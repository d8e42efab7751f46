using System.CommandLine;
using SeedDaemon.Ctl.Manifest;
using SeedDaemon.Ctl.Output;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl verify-manifest FILE — offline: no daemon needed.</summary>
public static class VerifyManifestCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("manifest") { Description = "a manifest written by 'seedctl export'" };
        var key = new Option<FileInfo?>("--key") { Description = "the deployment's verifier key file ('seedctl ledger key'): checks the manifest's signed checkpoint too" };
        var command = new Command("verify-manifest", "Offline: re-derive every seed with seedseq-v1, re-hash the ledger chain, recompute the tree's root and (with --key) check its signed checkpoint. Exits 0 when all holds, 5 naming the first bad record.") { file, key };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (Directory.Exists(path.FullName))
            {
                return await RefuseAsync(path, "it is a directory, not a manifest file");
            }

            FileStream stream;
            try
            {
                stream = new FileStream(path.FullName, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                return await RefuseAsync(path, error is FileNotFoundException or DirectoryNotFoundException ? "it does not exist" : error.Message);
            }

            string? verifierKey = null;
            if (parse.GetValue(key) is { } keyFile)
            {
                try
                {
                    verifierKey = VerifierKeyFile.Read(keyFile);
                }
                catch (CtlException error)
                {
                    await stream.DisposeAsync();
                    await Console.Error.WriteLineAsync($"seedctl: {error.Message}");
                    return error.ExitCode;
                }
            }

            ManifestVerification result;
            await using (stream)
            {
                result = ManifestVerifier.Verify(stream, events => Console.Error.WriteLine($"verify-manifest: {events} events checked"), verifierKey);
            }

            var printer = new Printer(Console.Out, parse.GetValue(Common.OutputFormat) == "json");
            printer.Value(
                new { ok = result.Ok, experiment_id = result.ExperimentId, seeds = result.Seeds, events = result.Events, chain_head = result.ChainHead, tree_root = result.TreeRoot, signature = result.Signature, lagging_keys = result.LaggingKeys, first_problem = result.FirstProblem },
                () => new Table("OK", "EXPERIMENT", "SEEDS", "EVENTS", "CHAIN_HEAD", "TREE_ROOT", "SIGNED").Add(result.Ok ? "yes" : "NO", result.ExperimentId, result.Seeds, result.Events, result.ChainHead, result.TreeRoot, result.Signature));
            if (!result.Ok)
            {
                await Console.Error.WriteLineAsync($"seedctl: {path.Name}: {result.FirstProblem}");
            }
            else if (result.LaggingKeys > 0)
            {
                await Console.Error.WriteLineAsync($"verify-manifest: {result.LaggingKeys} key(s) were issued, or issued again, after the export read its seeds: events[] holds those issues, seeds[] not yet (freeze the experiment before exporting for tables that agree)");
            }

            return result.Ok ? ExitCodes.Ok : ExitCodes.VerificationFailed;
        });
        return command;
    }

    private static async Task<int> RefuseAsync(FileInfo path, string why)
    {
        await Console.Error.WriteLineAsync($"seedctl: cannot read {path.FullName}: {why}");
        return ExitCodes.Usage;
    }
}
