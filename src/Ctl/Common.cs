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
                SeedClientOptions options;
                try
                {
                    options = SeedClientOptions.ForAddress(address);
                }
                catch (FormatException error)
                {
                    throw new CtlException(ExitCodes.Usage, "--address " + error.Message);
                }

                options.Token = parse.GetValue(Token);
                options.ClientLabels["tool"] = "seedctl";
                using var channel = Channels.Create(options);
                var printer = new Printer(Console.Out, parse.GetValue(OutputFormat) == "json");

                // The SDK's own headers (token, and who asks, for the daemon's ledger) on every call.
                var headers = options.Headers();
                var invoker = channel.Intercept(metadata =>
                {
                    foreach (var entry in headers)
                    {
                        metadata.Add(entry);
                    }

                    return metadata;
                });
                return await action(new Context(parse, invoker, options.Address, printer, cancellationToken));
            }
            catch (RpcException error) when (error.StatusCode == StatusCode.Internal && SpeaksAnotherProtocol(error))
            {
                // The transport's own INTERNAL: something answered, but not in gRPC (HTTP/2), as seedd's REST port answers.
                await Console.Error.WriteLineAsync($"seedctl: {address} does not speak gRPC ({RpcErrors.Describe(error)}). Is it seedd's REST port (--http-listen)? seedctl talks to seedd's gRPC address (--listen, 127.0.0.1:50051 by default).");
                return ExitCodes.Unavailable;
            }
            catch (RpcException error)
            {
                // UNAVAILABLE is either the transport's (nothing answered) or seedd's own (its database is down).
                var detail = error.StatusCode != StatusCode.Unavailable ? $"seedd answered {error.StatusCode}: {error.Status.Detail}"
                    : RpcErrors.IsFromServer(error) ? $"seedd at {address} answered Unavailable: {error.Status.Detail}"
                    : $"cannot reach seedd at {address}: {RpcErrors.Describe(error)}";
                await Console.Error.WriteLineAsync($"seedctl: {detail}");
                return ExitCodes.Of(error.StatusCode);
            }
            catch (CtlException error)
            {
                await Console.Error.WriteLineAsync($"seedctl: {error.Message}");
                return error.ExitCode;
            }
            catch (InvalidDataException error)
            {
                await Console.Error.WriteLineAsync($"seedctl: seedd at {address} answered something damaged: {error.Message}");
                return ExitCodes.Failed;
            }
        });

    /// <summary>
    /// The call never started: the HTTP/2 connection was refused in HTTP/1.1's terms (an HTTP/1.1-only
    /// server, as seedd's REST listener is), not a stream that failed later.
    /// </summary>
    private static bool SpeaksAnotherProtocol(RpcException error)
    {
        for (Exception? cause = error.Status.DebugException; cause is not null; cause = cause.InnerException)
        {
            if (cause is HttpRequestException or HttpProtocolException
                && (cause.Message.Contains("HTTP/2", StringComparison.Ordinal) || cause.Message.Contains("HTTP_1_1_REQUIRED", StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Follows next_page_token until the last page; returns every item.</summary>
    public static async Task<List<T>> AllPagesAsync<T>(Func<string, Task<(IEnumerable<T> Items, string NextPageToken)>> page)
    {
        var all = new List<T>();
        var token = "";
        do
        {
            var (items, next) = await page(token);
            all.AddRange(items);
            token = next;
        }
        while (token != "");

        return all;
    }

    public static Task<List<V1.Experiment>> AllExperimentsAsync(CallInvoker invoker, CancellationToken cancellationToken) =>
        AllPagesAsync(async token =>
        {
            var page = await new V1.SeedService.SeedServiceClient(invoker).ListExperimentsAsync(
                new V1.ListExperimentsRequest { PageSize = 1000, PageToken = token }, deadline: Deadline(), cancellationToken: cancellationToken);
            return (page.Experiments.AsEnumerable(), page.NextPageToken);
        });

    public static DateTime Deadline(TimeSpan? timeout = null) => DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));

    public sealed record Context(ParseResult Parse, CallInvoker Invoker, Uri Address, Printer Printer, CancellationToken CancellationToken)
    {
        public T Value<T>(Option<T> option) => Parse.GetValue(option)!;

        public T Value<T>(Argument<T> argument) => Parse.GetValue(argument)!;
    }
}
