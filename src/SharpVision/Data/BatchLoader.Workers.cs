using System.Runtime.ExceptionServices;

namespace SharpVision.Data;

public partial class BatchLoader<TTarget>
{
    /// <summary>
    /// The workers of one epoch. Samples are claimed one at a time in stream order (so the load balances
    /// inside a batch) and written to slot <c>batch % PrefetchBatches</c>; a worker waits while its sample's
    /// batch is more than PrefetchBatches ahead of the consumer. One lock guards all the shared counters:
    /// it is taken twice per image, which is nothing next to a decode.
    /// </summary>
    private sealed class WorkerRun : IDisposable
    {
        private readonly BatchLoader<TTarget> _loader;
        private readonly PlannedSample[][] _plan;
        private readonly SampleSlot[] _slots;
        private readonly (int Batch, int Position)[] _where;
        private readonly Thread[] _threads;
        private readonly object _lock = new();
        private int _nextItem, _released;
        private bool _stopping;
        private ExceptionDispatchInfo? _fatal;

        public WorkerRun(BatchLoader<TTarget> loader, PlannedSample[][] plan)
        {
            _loader = loader;
            _plan = plan;
            _slots = new SampleSlot[Math.Min(loader.Batching.PrefetchBatches, plan.Length)];
            for (int s = 0; s < _slots.Length; s++)
                _slots[s] = new SampleSlot(loader.Batching.BatchSize, loader._sampleFloats) { Remaining = plan[s].Length };
            _where = plan.SelectMany((items, b) => items.Select((_, p) => (b, p))).ToArray();
            _threads = new Thread[loader.Batching.Workers];
            for (int t = 0; t < _threads.Length; t++)
            {
                _threads[t] = new Thread(Work) { IsBackground = true, Name = $"SharpVision data worker {t}" };
                Interlocked.Increment(ref loader._activeWorkers);
                _threads[t].Start();
            }
        }

        private void Work()
        {
            try
            {
                while (true)
                {
                    int item;
                    lock (_lock)
                    {
                        while (!_stopping && _nextItem < _where.Length && _where[_nextItem].Batch >= _released + _slots.Length)
                            Monitor.Wait(_lock);
                        if (_stopping || _nextItem >= _where.Length) return;
                        item = _nextItem++;
                    }
                    var (batch, position) = _where[item];
                    var slot = _slots[batch % _slots.Length];
                    try
                    {
                        _loader.Produce(_plan[batch][position], slot, position);
                    }
                    catch (Exception e)
                    {
                        lock (_lock)
                        {
                            _fatal ??= ExceptionDispatchInfo.Capture(e);
                            _stopping = true;
                            Monitor.PulseAll(_lock);
                        }
                        return;
                    }
                    lock (_lock)
                    {
                        if (--slot.Remaining == 0)
                        {
                            slot.Ready = true;
                            Monitor.PulseAll(_lock);
                        }
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref _loader._activeWorkers);
            }
        }

        /// <summary>Blocks until batch <paramref name="batch"/> is complete; rethrows a worker's failure.</summary>
        public SampleSlot WaitReady(int batch)
        {
            var slot = _slots[batch % _slots.Length];
            lock (_lock)
            {
                while (!slot.Ready && _fatal is null) Monitor.Wait(_lock);
                _fatal?.Throw();
                return slot;
            }
        }

        /// <summary>Hands the slot of <paramref name="batch"/> (already copied out) to batch + prefetch.</summary>
        public void Release(int batch)
        {
            lock (_lock)
            {
                var slot = _slots[batch % _slots.Length];
                slot.Ready = false;
                int next = batch + _slots.Length;
                slot.Remaining = next < _plan.Length ? _plan[next].Length : 0;
                _released = batch + 1;
                Monitor.PulseAll(_lock);
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _stopping = true;
                Monitor.PulseAll(_lock);
            }
            // A worker in the middle of a decode finishes that one image, then sees the flag and returns.
            foreach (var t in _threads) t.Join();
        }
    }
}
