namespace SeedDaemon.Daemon.Storage.Postgres;

/// <summary>
/// The reads waiting for an experiment's entries to be placed (checkpoints, proofs, verifications),
/// served by one poll of the pending table per experiment, whatever their number: a burst of
/// checkpoint calls while a sequencer takes over costs one query every few milliseconds, not one per
/// call. A waiter is answered only by a poll sent after it registered, so the poll sees every entry
/// its read saw pending. A waiter gives up after <see cref="PostgresSequencer.IntegrationWait"/>.
/// </summary>
internal sealed class IntegrationWaiters(Func<string, CancellationToken, Task<long?>> oldestPending, CancellationToken stop)
{
    private readonly Dictionary<string, List<Waiter>> _waiting = new(StringComparer.Ordinal);

    /// <summary>True once no entry of the experiment up to pending id <paramref name="last"/> waits; false when time ran out.</summary>
    public async Task<bool> WaitAsync(string experimentId, long last, CancellationToken cancellationToken)
    {
        var waiter = new Waiter(last, DateTime.UtcNow + PostgresSequencer.IntegrationWait);
        bool first;
        lock (_waiting)
        {
            first = !_waiting.TryGetValue(experimentId, out var list);
            if (first)
            {
                _waiting[experimentId] = list = [];
            }

            list!.Add(waiter);
        }

        if (first)
        {
            _ = Task.Run(() => PollAsync(experimentId), CancellationToken.None);
        }

        return await waiter.Placed.Task.WaitAsync(cancellationToken);
    }

    private async Task PollAsync(string experimentId)
    {
        var delay = TimeSpan.FromMilliseconds(2);
        while (true)
        {
            Waiter[] asked;
            lock (_waiting)
            {
                var list = _waiting[experimentId];
                list.RemoveAll(w => w.GiveUp(stop.IsCancellationRequested));
                if (list.Count == 0)
                {
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
                lock (_waiting)
                {
                    foreach (var waiter in asked.Where(w => oldest is null || oldest > w.Last))
                    {
                        waiter.Placed.TrySetResult(true);
                        _waiting[experimentId].Remove(waiter);
                    }
                }
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // The database is away or seedd is stopping: the waiters give up when their time is out.
            }
        }
    }

    private sealed record Waiter(long Last, DateTime Deadline)
    {
        public TaskCompletionSource<bool> Placed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Answers false and leaves when its time is out (or seedd stops).</summary>
        public bool GiveUp(bool stopping)
        {
            if (!stopping && DateTime.UtcNow < Deadline)
            {
                return false;
            }

            Placed.TrySetResult(false);
            return true;
        }
    }
}
