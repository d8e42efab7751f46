using System.CommandLine;
using SeedDaemon.Ctl.Output;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl backup PATH — an online, consistent copy written by the daemon on its host.</summary>
public static class BackupCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "absolute path on the daemon's host for the new file" };
        var command = new Command("backup", "Have the daemon write a consistent copy of its database while it serves. Restore: start seedd with --db on the copy.") { path };
        Common.Action(command, async c =>
        {
            var backup = await new AdminService.AdminServiceClient(c.Invoker).CreateBackupAsync(new CreateBackupRequest { Path = c.Value(path) }, deadline: Common.Deadline(TimeSpan.FromMinutes(30)), cancellationToken: c.CancellationToken);
            c.Printer.Message(backup, b => new Table("PATH", "BYTES", "EXPERIMENTS", "ISSUED_SEEDS").Add(b.Path, b.SizeBytes, b.Experiments, b.IssuedSeeds));
            return ExitCodes.Ok;
        });
        return command;
    }
}
