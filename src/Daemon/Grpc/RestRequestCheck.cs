using System.Globalization;
using System.Text.Json;
using Google.Protobuf.Reflection;
using Google.Rpc;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;

namespace SeedDaemon.Daemon.Grpc;

/// <summary>
/// REST (gRPC JSON transcoding) reads query parameters and JSON fields it knows and ignores the
/// rest: <c>/v1/audit/events?worker=18</c> answered every worker's events, since the filter is
/// worker_min/worker_max. That is a silent wrong answer to an auditor. Before the transcoder runs,
/// every query parameter and every field of a JSON body is checked against the request message:
/// an unknown name, or a value of the wrong type, is 400 INVALID_ARGUMENT naming it (a
/// google.rpc.Status with a BadRequest, as every other error), and nothing is called.
/// </summary>
internal static partial class RestRequestCheck
{
    public static IApplicationBuilder UseRestRequestCheck(this IApplicationBuilder app, int maxBodyBytes) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>() is not { } rest)
        {
            await next(context);
            return;
        }

        var input = rest.MethodDescriptor.InputType;
        var problem = CheckQuery(context.Request.Query, input, rest.HttpRule);
        if (problem is null && rest.HttpRule.Body == "*" && context.Request.ContentLength is null or > 0)
        {
            context.Request.EnableBuffering(maxBodyBytes);
            problem = await CheckBodyAsync(context.Request.Body, input, maxBodyBytes, context.RequestAborted);
            context.Request.Body.Position = 0;
        }

        if (problem is null)
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "application/json; charset=utf-8";
        await WriteStatusAsync(context.Response.Body, problem.Value.Field, problem.Value.Message, context.RequestAborted);
    });

    /// <summary>google.rpc.Status as JSON, written as the transcoder writes every other error.</summary>
    private static async Task WriteStatusAsync(Stream body, string field, string message, CancellationToken cancellation)
    {
        // Relaxed escaping: a message quotes names ('worker'), which the default would write as \u0027.
        await using var json = new Utf8JsonWriter(body, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        json.WriteStartObject();
        json.WriteNumber("code", (int)Code.InvalidArgument);
        json.WriteString("message", message);
        json.WriteStartArray("details");
        json.WriteStartObject();
        json.WriteString("@type", "type.googleapis.com/" + BadRequest.Descriptor.FullName);
        json.WriteStartArray("fieldViolations");
        json.WriteStartObject();
        json.WriteString("field", field);
        json.WriteString("description", message);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(cancellation);
    }

    private static (string Field, string Message)? CheckQuery(IQueryCollection query, MessageDescriptor input, Google.Api.HttpRule rule)
    {
        // The transcoder reads no query parameter of a method whose body is the whole message, nor
        // one that repeats a field bound in the path: either would be ignored without a word.
        if (rule.Body == "*" && query.Count > 0)
        {
            var name = query.Keys.First();
            return (name, $"query parameter '{name}': {input.Name} takes its fields in the JSON body, not in the query string.");
        }

        var bound = PathVariables().Matches(rule.Get + rule.Post + rule.Put + rule.Delete + rule.Patch).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, values) in query)
        {
            var field = Resolve(input, name);
            if (bound.Contains(name) || field is not null && bound.Contains(field.Name))
            {
                return (name, $"query parameter '{name}': {name} is already in the path; give it there only.");
            }

            if (field is null || field.FieldType == FieldType.Message && !field.IsRepeated && !IsWellKnown(field))
            {
                return (name, $"unknown query parameter '{name}': {input.Name} takes {string.Join(", ", ScalarPaths(input, ""))}.");
            }

            foreach (var value in values)
            {
                if (ScalarProblem(field, value ?? "") is { } problem)
                {
                    return (name, $"query parameter '{name}': {problem}");
                }
            }
        }

        return null;
    }

    private static async Task<(string Field, string Message)?> CheckBodyAsync(Stream body, MessageDescriptor input, int maxBodyBytes, CancellationToken cancellation)
    {
        // At most one byte past the limit is read: a larger body is refused without reading it whole.
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, maxBodyBytes + 1L - buffer.Length)), cancellation)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > maxBodyBytes)
            {
                return ("body", $"the request body is larger than the {maxBodyBytes}-byte message limit (Seedd:MaxMessageBytes).");
            }
        }

        buffer.Position = 0;
        JsonDocument document;
        try
        {
            // The stream overload skips a UTF-8 byte order mark, as the transcoder does.
            document = await JsonDocument.ParseAsync(buffer, cancellationToken: cancellation);
        }
        catch (JsonException error)
        {
            return ("body", $"the request body is not JSON (line {error.LineNumber + 1}, character {error.BytePositionInLine + 1}).");
        }

        using (document)
        {
            return CheckMessage(document.RootElement, input, "");
        }
    }

    private static (string Field, string Message)? CheckMessage(JsonElement element, MessageDescriptor message, string prefix)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return (prefix.Length == 0 ? "body" : prefix.TrimEnd('.'), $"{(prefix.Length == 0 ? "the request body" : $"field '{prefix.TrimEnd('.')}'")} must be a JSON object ({message.Name}), not {Kind(element)}.");
        }

        foreach (var property in element.EnumerateObject())
        {
            var path = prefix + property.Name;
            var field = message.Fields.InDeclarationOrder().FirstOrDefault(f => f.JsonName == property.Name || f.Name == property.Name);
            if (field is null)
            {
                return (path, $"unknown field '{path}': {message.Name} has {string.Join(", ", message.Fields.InDeclarationOrder().Select(f => prefix + f.Name))}.");
            }

            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (CheckField(property.Value, field, path) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static (string Field, string Message)? CheckField(JsonElement value, FieldDescriptor field, string path)
    {
        if (field.IsMap)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                return (path, $"field '{path}' must be a JSON object of names to values, not {Kind(value)}.");
            }

            var valueField = field.MessageType.FindFieldByNumber(2);
            return value.EnumerateObject().Select(entry => CheckValue(entry.Value, valueField, $"{path}.{entry.Name}")).FirstOrDefault(p => p is not null);
        }

        if (field.IsRepeated)
        {
            return value.ValueKind != JsonValueKind.Array
                ? (path, $"field '{path}' must be a JSON array, not {Kind(value)}.")
                : value.EnumerateArray().Select((item, i) => CheckValue(item, field, $"{path}[{i}]")).FirstOrDefault(p => p is not null);
        }

        return CheckValue(value, field, path);
    }

    private static (string Field, string Message)? CheckValue(JsonElement value, FieldDescriptor field, string path)
    {
        if (field.FieldType == FieldType.Message)
        {
            // Well-known types have JSON forms of their own (a Timestamp is an RFC 3339 string): the transcoder checks them.
            return IsWellKnown(field) ? null : CheckMessage(value, field.MessageType, path + ".");
        }

        // proto3's JSON mapping: strings and bytes as JSON strings, bool as true/false, numbers and
        // enums as a JSON number or a string holding one (64-bit integers usually come as strings).
        var text = (field.FieldType, value.ValueKind) switch
        {
            (FieldType.String or FieldType.Bytes, JsonValueKind.String) => value.GetString(),
            (FieldType.String or FieldType.Bytes, _) => null,
            (FieldType.Bool, JsonValueKind.True or JsonValueKind.False) => value.GetRawText(),
            (FieldType.Bool, _) => null,
            (_, JsonValueKind.String) => value.GetString(),
            (_, JsonValueKind.Number) => value.GetRawText(),
            _ => null,
        };
        if (text is null)
        {
            return (path, $"field '{path}' must be {Expected(field)}, not {Kind(value)}.");
        }

        return ScalarProblem(field, text!) is { } problem ? (path, $"field '{path}': {problem}") : null;
    }

    /// <summary>What is wrong with <paramref name="text"/> as a value of a scalar field, or null.</summary>
    private static string? ScalarProblem(FieldDescriptor field, string text)
    {
        var ok = field.FieldType switch
        {
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
            FieldType.UInt32 or FieldType.Fixed32 => uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _),
            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _),
            FieldType.UInt64 or FieldType.Fixed64 => ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _),
            FieldType.Bool => text is "true" or "false",
            FieldType.Float or FieldType.Double => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
            FieldType.Enum => field.EnumType.Values.Any(v => v.Name == text || v.Number.ToString(CultureInfo.InvariantCulture) == text),
            _ => true, // strings, bytes, and well-known types (their JSON forms are the transcoder's to read)
        };
        return ok ? null : $"'{text}' is not {Expected(field)}.";
    }

    private static bool IsWellKnown(FieldDescriptor field) =>
        field.FieldType == FieldType.Message && field.MessageType.File.Package == "google.protobuf";

    private static string Expected(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => $"a whole number from {int.MinValue} to {int.MaxValue}",
        FieldType.UInt32 or FieldType.Fixed32 => $"a whole number from 0 to {uint.MaxValue}",
        FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => $"a whole number from {long.MinValue} to {long.MaxValue}",
        FieldType.UInt64 or FieldType.Fixed64 => $"a whole number from 0 to {ulong.MaxValue}",
        FieldType.Bool => "true or false",
        FieldType.Float or FieldType.Double => "a number",
        FieldType.Enum => $"one of {string.Join(", ", field.EnumType.Values.Select(v => v.Name))}",
        FieldType.Message => $"a JSON object ({field.MessageType.Name})",
        _ => "a JSON string",
    };

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string {value.GetRawText()}",
        JsonValueKind.Number => $"the number {value.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    /// <summary>A query parameter's field: a path of field names (proto or JSON spelling) through nested messages.</summary>
    private static FieldDescriptor? Resolve(MessageDescriptor message, string path)
    {
        FieldDescriptor? field = null;
        foreach (var part in path.Split('.'))
        {
            if (field is not null)
            {
                if (field.FieldType != FieldType.Message || field.IsRepeated)
                {
                    return null;
                }

                message = field.MessageType;
            }

            field = message.Fields.InDeclarationOrder().FirstOrDefault(f => f.Name == part || f.JsonName == part);
            if (field is null)
            {
                return null;
            }
        }

        return field;
    }

    private static IEnumerable<string> ScalarPaths(MessageDescriptor message, string prefix) =>
        message.Fields.InDeclarationOrder().SelectMany(f => f.FieldType == FieldType.Message && !f.IsRepeated && !IsWellKnown(f)
            ? ScalarPaths(f.MessageType, $"{prefix}{f.Name}.")
            : [prefix + f.Name]);

    /// <summary>{experiment_id=**} and {experiment_id} in an HTTP rule's path.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"\{([a-z0-9_.]+)(=[^}]*)?\}")]
    private static partial System.Text.RegularExpressions.Regex PathVariables();
}
