using System.CommandLine;
using System.CommandLine.Help;
using SeedDaemon.Ctl;
using SeedDaemon.Ctl.Verbs;

var root = new RootCommand("seedctl: audit and operate seedd, the seed-coordination daemon. Every verb takes --address (default $SEEDD_ADDRESS) and --output table|json.")
{
    Common.Address,
    Common.Token,
    Common.OutputFormat,
    ExperimentsCommand.Create(),
    SeedsCommand.Create(),
    EventsCommand.Create(),
    LedgerCommand.Create(),
    RunsCommand.Create(),
    ExportCommand.Create(),
    VerifyManifestCommand.Create(),
    ProofVerbs.VerifyProof(),
    EnvCommand.Create(),
    BackupCommand.Create(),
    StoreCommand.Create(),
    DoctorCommand.Create(),
};

var parse = root.Parse(args);
if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
{
    foreach (var error in parse.Errors)
    {
        Console.Error.WriteLine($"seedctl: {ParseErrors.Describe(error.Message)}");
    }

    Console.Error.WriteLine("Run 'seedctl --help' (or 'seedctl VERB --help') for usage.");
    return ExitCodes.Usage;
}

return await parse.InvokeAsync();
