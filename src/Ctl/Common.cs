using System.CommandLine;
using Grpc.Core;
using Grpc.Core.Interceptors;
using SeedDaemon.Client;
using SeedDaemon.Ctl.Output;

namespace SeedDaemon.Ctl;

/// <summary>Options every verb has, and what a verb's action needs: a channel to the daemon and a printer.</summary>
public static class Common
{
    public static readonly Option<string> Address = new("--address")
    {
        Description = "seedd's address, http://HOST:PORT (default: $SEEDD_ADDRESS, else http://127.0.0.1:50051)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(WorkerIdentity.AddressVariable) is { Length: > 0 } env ? env : SeedClientOptions.DefaultAddress,
    };

    public static readonly Option<string?> Token = new("--token")
    {
        Description = "bearer token, for a daemon that requires one (default: $SEEDD_TOKEN)",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(WorkerIdentity.TokenVariable),
    };

    public static readonly Option<string> OutputFormat = new("--output")
    {
        Description = "table (for people, the default) or json (for machines)",
        Recursive = true,
        DefaultValueFactory = _ => "table",
    };

    static Common()
    {
        OutputFormat.AcceptOnlyFromAmong("table", "json");
    }

    /// <summary>Runs a verb: maps daemon statuses and seedctl's own failures to one line on stderr and a named exit code.</summary>
    public static void Action(Command command, Func<Context, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            var address = parse.GetValue(Address)!;
            try
            {
                var socket = address.StartsWith("unix:", StringComparison.Ordinal) ? address["unix:".Length..] : null;
                var uri = socket is not null ? new Uri("http://localhost")
                    : Uri.TryCreate(address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address, UriKind.Absolute, out var parsed) ? parsed
                    : throw new CtlException(ExitCodes.Usage, $"--address '{address}' is not an address like http://127.0.0.1:50051 or unix:/run/seedd/seedd.sock");
                using var channel = Channels.Create(new SeedClientOptions { Address = uri, UnixSocketPath = socket });
                var token = parse.GetValue(Token);
                var printer = new Printer(Console.Out, parse.GetValue(OutputFormat) == "json");

                // Recorded in the daemon's ledger with every seed seedctl asks for.
                var invoker = channel.Intercept(headers =>
                {
                    if (!string.IsNullOrEmpty(token))
                    {
                        headers.Add("authorization", "Bearer " + token);
                    }

                    headers.Add("x-seedd-client-host", Environment.MachineName);
                    headers.Add("x-seedd-client-pid", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    headers.Add("x-seedd-client-labels", "tool=seedctl");
                    return headers;
                });
                return await action(new Context(parse, invoker, uri, printer, cancellationToken));
            }
            catch (RpcException error)
            {
                var detail = error.StatusCode == StatusCode.Unavailable
                    ? $"cannot reach seedd at {address}: {error.Status.Detail}"
                    : $"seedd answered {error.StatusCode}: {error.Status.Detail}";
                await Console.Error.WriteLineAsync($"seedctl: {detail}");
                return ExitCodes.Of(error.StatusCode);
            }
            catch (CtlException error)
            {
                await Console.Error.WriteLineAsync($"seedctl: {error.Message}");
                return error.ExitCode;
            }
        });

    public static DateTime Deadline(TimeSpan? timeout = null) => DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));

    public sealed record Context(ParseResult Parse, CallInvoker Invoker, Uri Address, Printer Printer, CancellationToken CancellationToken)
    {
        public T Value<T>(Option<T> option) => Parse.GetValue(option)!;

        public T Value<T>(Argument<T> argument) => Parse.GetValue(argument)!;
    }
}
