using Microsoft.AspNetCore.Http.Features;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>
/// A BatchGetSeeds request over the message limit is refused by gRPC itself, before seedd's code,
/// with "Received message exceeds the maximum configured message size": nothing about keys. A
/// user who sent 100,000 keys needs to hear the limit in keys, and that the SDKs split for them.
/// The status is rewritten on its way out (in the headers of a trailers-only answer, or in the trailers).
/// </summary>
internal static class BatchSizeErrors
{
    private const string Path = "/seeddaemon.v1.SeedService/BatchGetSeeds";
    private const string ResourceExhausted = "8";

    public static IApplicationBuilder UseBatchSizeErrors(this IApplicationBuilder app, int maxMessageBytes, int maxBatchKeys)
    {
        var message = $"The request is larger than the {maxMessageBytes}-byte message limit (Seedd:MaxMessageBytes). A BatchGetSeeds call carries at most {maxBatchKeys} keys (Seedd:MaxBatchKeys) within that size: split it (the .NET and Python SDKs do).";
        return app.Use(async (context, next) =>
        {
            if (!context.Request.Path.Equals(Path, StringComparison.Ordinal))
            {
                await next(context);
                return;
            }

            context.Response.OnStarting(() =>
            {
                Rewrite(context.Response.Headers, message);
                return Task.CompletedTask;
            });
            await next(context);
            if (context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is { IsReadOnly: false } trailers)
            {
                Rewrite(trailers, message);
            }
        });
    }

    private static void Rewrite(IHeaderDictionary status, string message)
    {
        if (status["grpc-status"] == ResourceExhausted && status["grpc-message"].ToString().StartsWith("Received message exceeds the maximum", StringComparison.Ordinal))
        {
            status["grpc-message"] = message;
        }
    }
}
