using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Rpc;
using SeedDaemon.Daemon.Audit;
using SeedDaemon.Daemon.Security;
using SeedDaemon.Manifest;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>
/// <c>GET /v1/audit/manifest?experiment_id=ID</c>: the manifest document itself, byte for byte
/// what <c>seedctl export</c> writes (one writer, <see cref="ManifestWriter"/>), streamed with bounded
/// memory. ExportManifest's gRPC stream of parts is not transcoded: over REST it would arrive as
/// parts, not as the document an auditor keeps. The same rules as every REST call: the auditor
/// role, unknown query parameters refused, errors as google.rpc.Status JSON with their HTTP code.
/// </summary>
internal static class ManifestDocumentEndpoint
{
    public const string Path = "/v1/audit/manifest";

    private const string Method = "/seeddaemon.v1.AuditService/ExportManifest";

    private static readonly JsonFormatter StatusJson = new(JsonFormatter.Settings.Default.WithTypeRegistry(
        TypeRegistry.FromMessages(BadRequest.Descriptor, ResourceInfo.Descriptor)));

    public static async Task ServeAsync(HttpContext http, LedgerAuditor auditor, TokenAuthenticator authenticator)
    {
        var cancellation = http.RequestAborted;
        try
        {
            authenticator.Authorize(Method, http.Request.Headers.Authorization.FirstOrDefault());
        }
        catch (AccessDeniedException denied)
        {
            var code = denied.Authenticated ? Code.PermissionDenied : Code.Unauthenticated;
            await WriteErrorAsync(http, new Status { Code = (int)code, Message = denied.Message });
            return;
        }

        if (http.Request.Query.Keys.FirstOrDefault(k => k is not ("experiment_id" or "experimentId")) is { } unknown)
        {
            var message = $"unknown query parameter '{unknown}': {Path} takes experiment_id.";
            await WriteErrorAsync(http, ErrorInterceptor.ToStatus(SeedDaemonException.Invalid(unknown, message)));
            return;
        }

        var experimentId = http.Request.Query.TryGetValue("experiment_id", out var snake) ? snake.ToString() : http.Request.Query["experimentId"].ToString();
        await using var items = auditor.ManifestAsync(experimentId, includeRuns: true, cancellation).GetAsyncEnumerator(cancellation);
        try
        {
            // The first part reads the experiment: an unknown one is 404 before any byte of a document.
            await items.MoveNextAsync();
        }
        catch (SeedDaemonException error)
        {
            await WriteErrorAsync(http, ErrorInterceptor.ToStatus(error));
            return;
        }

        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"{FileName(experimentId)}\"";
        await using var writer = new ManifestWriter(http.Response.Body);
        do
        {
            await writer.WriteAsync(ProtoMapper.ToProto(items.Current));
        }
        while (await items.MoveNextAsync());
    }

    private static async Task WriteErrorAsync(HttpContext http, Status status)
    {
        http.Response.StatusCode = HttpStatus((Code)status.Code);
        http.Response.ContentType = "application/json; charset=utf-8";
        await http.Response.WriteAsync(StatusJson.Format(status), http.RequestAborted);
    }

    /// <summary>The HTTP status gRPC JSON transcoding gives each code, for the codes this endpoint answers.</summary>
    private static int HttpStatus(Code code) => code switch
    {
        Code.InvalidArgument => StatusCodes.Status400BadRequest,
        Code.Unauthenticated => StatusCodes.Status401Unauthorized,
        Code.PermissionDenied => StatusCodes.Status403Forbidden,
        Code.NotFound => StatusCodes.Status404NotFound,
        Code.FailedPrecondition => StatusCodes.Status400BadRequest,
        Code.ResourceExhausted => StatusCodes.Status429TooManyRequests,
        Code.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    private static string FileName(string experimentId) => string.Concat(experimentId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')) + ".manifest.json";
}
