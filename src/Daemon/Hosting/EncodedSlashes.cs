namespace SeedDaemon.Daemon.Hosting;

/// <summary>
/// REST paths carry experiment ids with slashes ("team/project/run-17"). Client libraries that
/// percent-encode a path segment send them as %2F, which ASP.NET Core leaves encoded in
/// Request.Path (it decodes everything else). Under /v1/ the two spellings mean the same id, so
/// %2F becomes "/" before routing; both forms reach the same endpoint.
/// </summary>
internal static class EncodedSlashes
{
    public static IApplicationBuilder UseDecodedSlashesInRestPaths(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var path = context.Request.Path.Value;
        if (path is not null && path.StartsWith("/v1/", StringComparison.Ordinal) && path.Contains("%2F", StringComparison.OrdinalIgnoreCase))
        {
            context.Request.Path = new PathString(path.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase));
        }

        return next(context);
    });
}
