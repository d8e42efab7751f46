namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The data file as LiteDB sees it: writes pass only while seedd has opened the gate, for the few
/// moments LiteDB legitimately writes the data file: creating a new database, its checkpoint (the log
/// copied in), and a clean close. Anything else is refused with an exception before a byte reaches
/// the file. What it stops: LiteDB, failing to read a damaged page, marks the file "invalid" in its
/// header on its way out (so that a later open rebuilds it); a refused start, or a damaged page found
/// while serving, must leave the file byte for byte as it was. The one change LiteDB makes at an open
/// after a crash is kept in memory only: setting the file's length to what its header and log say
/// (a checkpoint cut short leaves it longer or shorter). The file then reads as that long (zeros past
/// its end) until the gate next opens, when the length is set for real.
/// <para>
/// A checkpoint cut short may also have torn the data file's header page, which LiteDB parses
/// before it reads its log, though it then takes the header from the log. So when the log holds a
/// confirmed copy of the header (<paramref name="logHeader"/>), that copy is read in place of the
/// data file's first page until LiteDB writes that page itself. Every other call is passed through.
/// </para>
/// </summary>
internal sealed class GatedDataStream(Stream file, bool open, byte[]? logHeader = null) : Stream
{
    private readonly Counter _opened = new(open ? 1 : 0);
    private long _length = -1;
    private byte[]? _logHeader = logHeader;

    /// <summary>Opens the gate until the returned scope is disposed (scopes nest).</summary>
    public IDisposable AllowWrites()
    {
        Interlocked.Increment(ref _opened.Value);
        lock (this)
        {
            if (_length >= 0)
            {
                file.SetLength(_length);
                _length = -1;
            }
        }

        return new Scope(_opened);
    }

    /// <summary>Closes the gate a new database was created with, once it is whole.</summary>
    public void CloseAfterCreation()
    {
        if (Interlocked.CompareExchange(ref _opened.Value, 0, 1) != 1)
        {
            throw new InvalidOperationException("the data file's write gate was not open for creation");
        }
    }

    public override bool CanRead => file.CanRead;

    public override bool CanSeek => file.CanSeek;

    public override bool CanWrite => file.CanWrite;

    public override long Length => Volatile.Read(ref _length) is var length and >= 0 ? length : file.Length;

    public override long Position
    {
        get => file.Position;
        set => file.Position = value;
    }

    public override void Flush() => file.Flush();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var at = file.Position;
        var read = ReadFile(buffer);
        if (Volatile.Read(ref _logHeader) is { } header && at < header.Length)
        {
            header.AsSpan((int)at, (int)Math.Min(read, header.Length - at)).CopyTo(buffer);
        }

        return read;
    }

    private int ReadFile(Span<byte> buffer)
    {
        var length = Volatile.Read(ref _length);
        if (length < 0)
        {
            return file.Read(buffer);
        }

        // The length LiteDB set while the gate was closed: nothing past it, zeros where the file is shorter.
        var wanted = (int)Math.Clamp(length - file.Position, 0, buffer.Length);
        var read = file.Read(buffer[..wanted]);
        if (read < wanted)
        {
            buffer[read..wanted].Clear();
            file.Position += wanted - read;
        }

        return wanted;
    }

    public override long Seek(long offset, SeekOrigin origin) => file.Seek(offset, origin);

    public override void SetLength(long value)
    {
        if (Volatile.Read(ref _opened.Value) == 0)
        {
            Volatile.Write(ref _length, value);
            return;
        }

        file.SetLength(value);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Check("write", file.Position);
        if (file.Position < LiteDbBackend.PageSize)
        {
            // LiteDB writes its header itself: from now on the file's page is the one to read.
            Volatile.Write(ref _logHeader, null);
        }

        file.Write(buffer);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            file.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Check(string what, long at)
    {
        if (Volatile.Read(ref _opened.Value) == 0)
        {
            // Not an IOException: LiteDB retries those for up to a minute.
            throw new InvalidOperationException($"seedd refused LiteDB's attempt to {what} of the data file at {at} outside a checkpoint: the file is left as it was.");
        }
    }

    private sealed class Counter(int value)
    {
        public int Value = value;
    }

    private sealed class Scope(Counter opened) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref opened.Value);
            }
        }
    }
}
