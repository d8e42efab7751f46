using System.Text.Json;

namespace SeedDaemon.Ctl.Manifest;

/// <summary>
/// Reads a large JSON document token by token, and one value at a time, with a bounded buffer
/// (it grows only to the size of the largest single value), so a manifest of a million events is
/// verified without loading it.
/// </summary>
internal sealed class StreamingJson(Stream stream) : IDisposable
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _offset;
    private int _length;
    private bool _final;
    private JsonReaderState _state;

    /// <summary>The next token; strings and property names are returned as text.</summary>
    public (JsonTokenType Type, string? Text) Next()
    {
        while (true)
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_offset, _length - _offset), _final, _state);
            if (reader.Read())
            {
                var text = reader.TokenType is JsonTokenType.PropertyName or JsonTokenType.String ? reader.GetString() : null;
                var type = reader.TokenType;
                _offset += (int)reader.BytesConsumed;
                _state = reader.CurrentState;
                return (type, text);
            }

            if (_final)
            {
                return (JsonTokenType.None, null);
            }

            Fill();
        }
    }

    /// <summary>The next complete value, or null when the next token closes the current array.</summary>
    public JsonElement? NextValue()
    {
        while (true)
        {
            var reader = new Utf8JsonReader(_buffer.AsSpan(_offset, _length - _offset), _final, _state);
            if (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    _offset += (int)reader.BytesConsumed;
                    _state = reader.CurrentState;
                    return null;
                }

                var start = (int)reader.TokenStartIndex;
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && !reader.TrySkip())
                {
                    if (_final)
                    {
                        throw new JsonException("the manifest ends in the middle of a value");
                    }

                    Fill();
                    continue;
                }

                var end = (int)reader.BytesConsumed;
                using var document = JsonDocument.Parse(_buffer.AsMemory(_offset + start, end - start));
                _offset += end;
                _state = reader.CurrentState;
                return document.RootElement.Clone();
            }

            if (_final)
            {
                throw new JsonException("the manifest ends where a value was expected");
            }

            Fill();
        }
    }

    public void Dispose() => stream.Dispose();

    private void Fill()
    {
        if (_offset > 0)
        {
            Buffer.BlockCopy(_buffer, _offset, _buffer, 0, _length - _offset);
            _length -= _offset;
            _offset = 0;
        }

        if (_length == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        var read = stream.Read(_buffer, _length, _buffer.Length - _length);
        _length += read;
        _final = read == 0;
    }
}
