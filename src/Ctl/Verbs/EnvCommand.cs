using System.CommandLine;
using SeedDaemon.Client;
using SeedDaemon.V1;

namespace SeedDaemon.Ctl.Verbs;

/// <summary>seedctl env — export lines for shells and orchestrators (Airflow tasks, Kubeflow pods).</summary>
public static class EnvCommand
{
    public static Command Create()
    {
        var worker = new Option<uint>("--worker") { Description = "worker index", Required = true };
        var command = new Command("env", "Print export lines for a worker: SEEDD_ADDRESS, SEEDD_EXPERIMENT, SEEDD_WORKER and PYTHONHASHSEED (the python.hash seed). Use: eval \"$(seedctl env --experiment ID --worker N)\"") { SeedsCommand.Experiment, worker };
        Common.Action(command, async c =>
        {
            var experiment = c.Value(SeedsCommand.Experiment);
            var seed = await new SeedService.SeedServiceClient(c.Invoker).GetSeedAsync(
                new GetSeedRequest { ExperimentId = experiment, Worker = c.Value(worker), Library = "python.hash" },
                deadline: Common.Deadline(), cancellationToken: c.CancellationToken);
            SeedVerifier.Verify(seed, experiment, c.Value(worker), "python.hash", "");
            var lines = new Dictionary<string, string>
            {
                [WorkerIdentity.AddressVariable] = c.Address.ToString().TrimEnd('/'),
                [WorkerIdentity.ExperimentVariable] = experiment,
                [WorkerIdentity.WorkerVariable] = c.Value(worker).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["PYTHONHASHSEED"] = seed.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            if (c.Printer.Json)
            {
                c.Printer.Value(lines, () => throw new InvalidOperationException());
            }
            else
            {
                foreach (var (name, value) in lines)
                {
                    c.Printer.Writer.WriteLine($"export {name}={Quote(value)}");
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Single-quoted for POSIX shells.</summary>
    private static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
