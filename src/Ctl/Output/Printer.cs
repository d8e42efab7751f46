using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;

namespace SeedDaemon.Ctl.Output;

/// <summary>Writes results as a table for people (default) or JSON for machines (--output json).</summary>
public sealed class Printer(TextWriter output, bool json)
{
    private static readonly JsonFormatter ProtoJson = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithPreserveProtoFieldNames(true));
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public bool Json => json;

    public TextWriter Writer => output;

    /// <summary>Protobuf messages as the proto JSON mapping (field names as in the .proto), one array or object.</summary>
    public void Messages<T>(IEnumerable<T> messages, Func<IReadOnlyList<T>, Table> table)
        where T : IMessage
    {
        var list = messages.ToList();
        if (json)
        {
            output.WriteLine("[" + string.Join(",\n", list.Select(m => ProtoJson.Format(m))) + "]");
        }
        else
        {
            output.Write(table(list));
        }
    }

    public void Message<T>(T message, Func<T, Table> table)
        where T : IMessage
    {
        if (json)
        {
            output.WriteLine(ProtoJson.Format(message));
        }
        else
        {
            output.Write(table(message));
        }
    }

    public void Value(object value, Func<Table> table)
    {
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(value, Indented));
        }
        else
        {
            output.Write(table());
        }
    }
}
