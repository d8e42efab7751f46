using System.CommandLine;
using Grpc.Core;
using SeedDaemon.Client;
using SeedDaemon.Client.Proofs;
using SeedDaemon.Ctl.Output;
using SeedDaemon.Ledger;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>
/// The transparency log's verbs: <c>ledger key</c>, <c>ledger keygen</c>, <c>ledger checkpoint</c>, <c>ledger consistency</c>,
/// <c>seeds prove</c> and the offline <c>verify-proof</c>. Every check is the SDK's (<see cref="ProofBundle"/>,
/// <see cref="LedgerCheckpoint"/>): what seedctl accepts, a program does too.
/// </summary>
public static class ProofVerbs
{
    private static readonly Option<FileInfo?> KeyFile = new("--key")
    {
        Description = "a file holding the deployment's verifier key (what 'seedctl ledger key' prints); default: the key the daemon serves",
    };

    public static Command Key()
    {
        var command = new Command("key", "Print the verifier key of this deployment's signed checkpoints (signed-note format); keep it where auditors can find it.");
        Common.Action(command, async c =>
        {
            var key = await Audit(c).GetLedgerKeyAsync(new GetLedgerKeyRequest(), deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            if (c.Printer.Json)
            {
                c.Printer.Value(new { verifier_key = key.VerifierKey, origin_prefix = key.OriginPrefix }, () => new Table());
            }
            else
            {
                await c.Printer.Writer.WriteLineAsync(key.VerifierKey);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Keygen()
    {
        var output = new Option<FileInfo>("-o", "--output-file") { Description = "the key file to create (mode 0600; never overwritten), for --ledger-key or the systemd credential seedd-ledger-key", Required = true, HelpName = "FILE" };
        var name = new Option<string>("--name") { Description = "the key's name, the origin's first part in every checkpoint (default: seedd.HOSTNAME of this machine, as seedd names a key it generates; name the deployment instead when replicas share it)" };
        var command = new Command("keygen", "Create a new signing key for the ledger's checkpoints (offline), for replicas that share one key; prints its verifier key.") { output, name };
        Common.Action(command, async c =>
        {
            var keyName = c.Value(name) ?? SignerKeyFile.DefaultName;
            NoteSigner signer;
            try
            {
                signer = NoteSigner.Generate(keyName);
            }
            catch (FormatException error)
            {
                throw new CtlException(ExitCodes.InvalidArgument, $"--name '{keyName}': {error.Message}");
            }

            var path = c.Value(output)!.FullName;
            if (File.Exists(path))
            {
                throw new CtlException(ExitCodes.AlreadyExists, $"{path} exists; seedctl never replaces a key (checkpoints it signed would verify with nothing). Choose another file, or remove this one if no checkpoint was ever signed with it.");
            }

            try
            {
                SignerKeyFile.Write(path, signer);
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                var why = error is DirectoryNotFoundException ? $"the folder {Path.GetDirectoryName(path)} does not exist" : error.Message;
                throw new CtlException(File.Exists(path) ? ExitCodes.AlreadyExists : error is UnauthorizedAccessException ? ExitCodes.PermissionDenied : ExitCodes.Usage, $"cannot create the key file {path}: {why}");
            }

            if (c.Printer.Json)
            {
                c.Printer.Value(new { key_file = path, verifier_key = signer.VerifierKey }, () => new Table());
            }
            else
            {
                await c.Printer.Writer.WriteLineAsync(signer.VerifierKey);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Checkpoint()
    {
        var id = new Argument<string>("experiment-id");
        var size = new Option<long>("--size") { Description = "the checkpoint of the first N entries (default: the whole log)" };
        var command = new Command("checkpoint", "Print the experiment's latest signed checkpoint, the note's text as it is signed (save it: 'ledger consistency --since' takes it).") { id, size };
        Common.Action(command, async c =>
        {
            var answer = await Audit(c).GetCheckpointAsync(new GetCheckpointRequest { ExperimentId = c.Value(id), TreeSize = c.Value(size) }, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            if (c.Printer.Json)
            {
                c.Printer.Value(new { experiment_id = c.Value(id), tree_size = answer.TreeSize, root_hash = Convert.ToBase64String(answer.RootHash.Span), note = answer.Note }, () => new Table());
            }
            else
            {
                await c.Printer.Writer.WriteAsync(answer.Note);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Consistency()
    {
        var id = new Argument<string>("experiment-id");
        var since = new Option<FileInfo>("--since") { Description = "a checkpoint kept earlier (what 'seedctl ledger checkpoint' printed)", Required = true };
        var command = new Command("consistency", "Prove that today's log extends an old checkpoint: exit 0, or 5 naming what does not hold.") { id, since, KeyFile };
        Common.Action(command, async c =>
        {
            var experiment = c.Value(id);
            var key = await VerifierKeyAsync(c);
            // A kept note saved with extra newlines at its end (echo >> file) is still the note: its signature covers the text above.
            var oldNote = InputFile.ReadText(c.Value(since)!, "checkpoint").Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n') + "\n";
            if (oldNote.TrimStart().StartsWith('{'))
            {
                throw new CtlException(ExitCodes.Usage, $"the checkpoint file {c.Value(since)!.FullName} holds JSON: keep the signed note 'seedctl ledger checkpoint' prints without --output json.");
            }

            LedgerCheckpoint old;
            try
            {
                old = LedgerCheckpoint.Open(oldNote, key, experiment);
            }
            catch (SeedVerificationException error)
            {
                return NotConsistent(c, experiment, $"{c.Value(since)!.Name}: {error.Message}");
            }

            ConsistencyProof proof;
            try
            {
                proof = await Audit(c).ProveConsistencyAsync(new ProveConsistencyRequest { ExperimentId = experiment, OldSize = old.Size }, deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.OutOfRange)
            {
                return NotConsistent(c, experiment, $"today's log of '{experiment}' does not extend the old checkpoint: {error.Status.Detail}");
            }

            var hashes = proof.Proof.Select(p => p.ToByteArray()).ToList();
            try
            {
                var current = LedgerCheckpoint.Open(proof.Checkpoint, key, experiment);
                current.CheckExtends(old, hashes);
            }
            catch (SeedVerificationException error)
            {
                return NotConsistent(c, experiment, error.Message);
            }

            c.Printer.Value(
                new { ok = true, old_size = proof.OldSize, new_size = proof.NewSize, proof = hashes.Select(Convert.ToBase64String), checkpoint = proof.Checkpoint },
                () => new Table("OK", "EXPERIMENT", "OLD_SIZE", "NEW_SIZE", "PROOF_HASHES").Add("yes", experiment, proof.OldSize, proof.NewSize, hashes.Count));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Prove(Option<string> experiment, Option<uint> worker, Option<string> library, Option<string> stream)
    {
        var output = new Option<FileInfo?>("-o", "--output-file") { Description = "write the proof bundle here (default: standard output)" };
        var command = new Command("prove", "Write the proof that the event that issued a key is in the experiment's signed log: a JSON bundle that 'seedctl verify-proof' checks offline.") { experiment, worker, library, stream, output, KeyFile };
        Common.Action(command, async c =>
        {
            var request = new ProveInclusionRequest
            {
                ExperimentId = c.Value(experiment),
                Key = new ProofKey { Worker = c.Value(worker), Library = c.Value(library), Stream = c.Value(stream) },
            };
            var bundle = ProofBundle.FromProto(await Audit(c).ProveInclusionAsync(request, deadline: Common.Deadline(), cancellationToken: c.CancellationToken));

            // Checked before it is written: a bundle that would not verify is not kept.
            LedgerCheckpoint checkpoint;
            try
            {
                checkpoint = bundle.Verify(await VerifierKeyAsync(c));
            }
            catch (SeedVerificationException error)
            {
                throw new CtlException(ExitCodes.VerificationFailed, $"seedd's proof does not verify: {error.Message}");
            }

            var json = bundle.ToJson() + "\n";
            if (c.Value(output) is { } file)
            {
                await OutputFile.WriteAsync(file, json);
                await Console.Error.WriteLineAsync($"prove: entry {bundle.Index} of {checkpoint.Size} in '{checkpoint.ExperimentId}', {bundle.AuditPath.Count} hashes, written to {file.Name}");
            }
            else
            {
                await c.Printer.Writer.WriteAsync(json);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>seedctl verify-proof FILE --key KEYFILE — offline: no daemon needed.</summary>
    public static Command VerifyProof()
    {
        var file = new Argument<FileInfo>("bundle") { Description = "a proof bundle written by 'seedctl seeds prove'" };
        var key = new Option<FileInfo>("--key") { Description = "a file holding the deployment's verifier key ('seedctl ledger key')", Required = true };
        var command = new Command("verify-proof", "Offline: check a proof bundle with the verifier key alone (signature, origin, audit path). Exits 0, or 5 naming what does not match.") { file, key };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var printer = new Printer(Console.Out, parse.GetValue(Common.OutputFormat) == "json");
            try
            {
                var bundle = ProofBundle.Parse(InputFile.ReadText(parse.GetValue(file)!, "proof bundle"));
                var checkpoint = bundle.Verify(VerifierKeyFile.Read(parse.GetValue(key)!));
                var entry = bundle.Event();
                printer.Value(
                    new { ok = true, experiment_id = entry.ExperimentId, worker = entry.Worker, library = entry.Library, stream = entry.Stream, seed64 = entry.Seed64.ToString(System.Globalization.CultureInfo.InvariantCulture), index = bundle.Index, tree_size = checkpoint.Size },
                    () => new Table("OK", "EXPERIMENT", "WORKER", "LIBRARY", "STREAM", "SEED64", "INDEX", "TREE_SIZE")
                        .Add("yes", entry.ExperimentId, entry.Worker, entry.Library, entry.Stream, entry.Seed64, bundle.Index, checkpoint.Size));
                return ExitCodes.Ok;
            }
            catch (CtlException error)
            {
                await Console.Error.WriteLineAsync($"seedctl: {error.Message}");
                return error.ExitCode;
            }
            catch (SeedVerificationException error)
            {
                printer.Value(new { ok = false, problem = error.Message }, () => new Table("OK", "PROBLEM").Add("NO", error.Message));
                await Console.Error.WriteLineAsync($"seedctl: {parse.GetValue(file)!.Name}: {error.Message}");
                return ExitCodes.VerificationFailed;
            }
        });
        return command;
    }

    /// <summary>A consistency that does not hold: the verdict on stdout (a table, or ok=false in JSON) as verify-proof gives it, the reason on stderr, exit 5.</summary>
    private static int NotConsistent(Common.Context c, string experiment, string problem)
    {
        c.Printer.Value(new { ok = false, experiment_id = experiment, problem }, () => new Table("OK", "EXPERIMENT", "PROBLEM").Add("NO", experiment, problem));
        Console.Error.WriteLine($"seedctl: {problem}");
        return ExitCodes.VerificationFailed;
    }

    private static AuditService.AuditServiceClient Audit(Common.Context c) => new(c.Invoker);

    private static async Task<string> VerifierKeyAsync(Common.Context c) =>
        c.Parse.GetValue(KeyFile) is { } file
            ? VerifierKeyFile.Read(file)
            : (await Audit(c).GetLedgerKeyAsync(new GetLedgerKeyRequest(), deadline: Common.Deadline(), cancellationToken: c.CancellationToken)).VerifierKey;
}
