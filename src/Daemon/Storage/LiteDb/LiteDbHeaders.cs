using System.Buffers.Binary;

namespace SeedDaemon.Daemon.Storage.LiteDb;

/// <summary>
/// The little of LiteDB 5's page format that seedd reads itself, before LiteDB opens a file. Every
/// page starts with its id (u32) and type (byte; 1 is the header page). The header page holds the
/// database's creation time (8 bytes at 68) and the "invalid datafile state" flag (byte 191) that
/// LiteDB sets when it failed to read a page, so that its next open rebuilds the file. A commit
/// that changes the header page writes a copy of it into the log. In the log every page also holds
/// its transaction's id (u32 at 14) and, on the last page of a transaction, the flag that confirms
/// it (byte 18); a commit that changes the header page writes that copy last.
/// </summary>
internal static class LiteDbHeaders
{
    private const int PageTypeOffset = 4;
    private const byte HeaderPageType = 1;
    private const int CreationTimeOffset = 68;
    private const int CreationTimeLength = 8;
    private const int ConfirmedOffset = 18;
    private const int InvalidStateOffset = 191;
    private const int HeaderPrefix = InvalidStateOffset + 1;

    /// <summary>The data file's creation time (as stored) and whether LiteDB marked it invalid.</summary>
    public static (ulong CreationTime, bool MarkedInvalid) ReadDataHeader(Stream data)
    {
        var header = new byte[HeaderPrefix];
        data.Position = 0;
        data.ReadExactly(header);
        return (BinaryPrimitives.ReadUInt64LittleEndian(header.AsSpan(CreationTimeOffset)), header[InvalidStateOffset] != 0);
    }

    /// <summary>Each copy of the header page the log holds: the log page it is in, its creation time, and whether it confirms its transaction.</summary>
    public static IEnumerable<(long LogPage, ulong CreationTime, bool Confirmed)> LogHeaderCopies(Stream log)
    {
        var prefix = new byte[HeaderPrefix];
        for (long page = 0; (page + 1) * LiteDbBackend.PageSize <= log.Length; page++)
        {
            log.Position = page * LiteDbBackend.PageSize;
            log.ReadExactly(prefix);
            if (BinaryPrimitives.ReadUInt32LittleEndian(prefix) == 0 && prefix[PageTypeOffset] == HeaderPageType)
            {
                yield return (page, BinaryPrimitives.ReadUInt64LittleEndian(prefix.AsSpan(CreationTimeOffset)), prefix[ConfirmedOffset] != 0);
            }
        }
    }

    /// <summary>
    /// The header page LiteDB's open takes from the log: the last copy that confirms its transaction
    /// (LiteDB's own rule when it reads its log at an open), or null when the log holds none. The log
    /// is left at its start.
    /// </summary>
    public static byte[]? LastConfirmedLogHeader(Stream log)
    {
        byte[]? header = null;
        if (LogHeaderCopies(log).LastOrDefault(c => c.Confirmed) is (var page, _, true))
        {
            header = new byte[LiteDbBackend.PageSize];
            log.Position = page * LiteDbBackend.PageSize;
            log.ReadExactly(header);
        }

        log.Position = 0;
        return header;
    }
}
