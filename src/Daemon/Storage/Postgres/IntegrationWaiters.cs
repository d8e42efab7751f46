namespace SeedDaemon.Daemon.Storage.Postgres;

/// <summary>
/// The reads waiting for an experiment's entries to be placed (checkpoints, proofs, verifications),
/// served by one poll of the pending table per experiment, whatever their number: a burst of
/// checkpoint calls while a sequencer takes over costs one query every few milliseconds, not one per
/// call. A waiter is answered only by a poll sent after it registered, so the poll sees every entry
/// its read saw pending. A waiter gives up after <see cref="PostgresSequencer.IntegrationWait"/>,
/// whatever the poll is doing.
/// </summary>
internal sealed class IntegrationWaiters(Func<string, CancellationToken, Task<long?>> oldestPending, CancellationToken stop)
{
    private readonly Dictionary<string, List<Waiter>> _waiting = new(StringComparer.Ordinal);

    /// <summary>True once no entry of the experiment up to pending id <paramref name="last"/> waits; false when time ran out.</summary>
    public async Task<bool> WaitAsync(string experimentId, long last, CancellationToken cancellationToken)
    {
        var waiter = new Waiter(last);
        List<Waiter>? started = null;
        lock (_waiting)
        {
            if (!_waiting.TryGetValue(experimentId, out var list))
            {
                _waiting[experimentId] = list = started = [];
            }

            list.Add(waiter);
        }

        if (started is not null)
        {
            _ = Task.Run(() => PollAsync(experimentId, started), CancellationToken.None);
        }

        try
        {
            return await waiter.Placed.Task.WaitAsync(PostgresSequencer.IntegrationWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            // Given up (or answered): the poll drops it.
            waiter.Placed.TrySetResult(false);
        }
    }

    private async Task PollAsync(string experimentId, List<Waiter> list)
    {
        var delay = TimeSpan.FromMilliseconds(2);
        try
        {
            while (true)
            {
                Waiter[] asked;
                lock (_waiting)
                {
                    list.RemoveAll(w => w.Placed.Task.IsCompleted);
                    if (list.Count == 0 || stop.IsCancellationRequested)
                    {
                        // Under the same lock a new waiter would join under: it finds no poll and starts one.
                        _waiting.Remove(experimentId);
                        return;
                    }

                    asked = [.. list];
                }

                try
                {
                    await Task.Delay(delay, stop);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, PostgresSequencer.IdlePoll.Ticks));
                    var oldest = await oldestPending(experimentId, stop);
                    foreach (var waiter in asked.Where(w => oldest is null || oldest > w.Last))
                    {
                        waiter.Placed.TrySetResult(true);
                    }
                }
                catch (Exception error) when (error is not OutOfMemoryException)
                {
                    // The database is away or seedd is stopping: the waiters give up when their time is out.
                }
            }
        }
        finally
        {
            // However the poll ended, its list goes with it (not a newer poll's): the next waiter starts a new poll.
            lock (_waiting)
            {
                if (_waiting.TryGetValue(experimentId, out var current) && current == list)
                {
                    _waiting.Remove(experimentId);
                }
            }
        }
    }

    private sealed class Waiter(long last)
    {
        public long Last { get; } = last;

        public TaskCompletionSource<bool> Placed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
