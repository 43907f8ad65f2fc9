namespace SharpVision.Data;

/// <summary>One sample to produce: its index in the data set and the seed of its own <see cref="Random"/>.</summary>
internal readonly record struct PlannedSample(int Index, int Seed);

/// <summary>
/// The order of a <see cref="BatchLoader{TTarget}"/>, computed rather than stored. The data is cut into an endless
/// stream of passes; pass k visits every sample once, in an order shuffled from (Seed, k), in batches of BatchSize
/// (the last one smaller unless DropLast). Without StepsPerEpoch, epoch e is pass e; with StepsPerEpoch = S, epoch e
/// is batches e*S .. e*S+S-1 of the stream, so an epoch can end inside a pass and the next carries on (Keras'
/// generators). The sample at position p of pass k draws from a seed of (Seed, k, p), so any epoch can be asked
/// for in any order and comes out the same (a resumed run gets the same batches).
/// </summary>
internal sealed class EpochPlan
{
    private readonly DataLoaderOptions _options;
    private readonly int _count;

    /// <summary>The plan of <paramref name="count"/> samples under options already validated.</summary>
    public EpochPlan(DataLoaderOptions options, int count)
    {
        _options = options;
        _count = count;
        int batchSize = options.BatchSize;
        BatchesPerPass = options.DropLast ? count / batchSize : (count + batchSize - 1) / batchSize;
        BatchesPerEpoch = options.StepsPerEpoch ?? BatchesPerPass;
    }

    public int BatchesPerPass { get; }
    public int BatchesPerEpoch { get; }

    /// <summary>The batches of epoch <paramref name="epoch"/>.</summary>
    public PlannedSample[][] Epoch(int epoch) => Stream((long)epoch * BatchesPerEpoch, BatchesPerEpoch);

    /// <summary>The batches of pass <paramref name="pass"/>, whatever StepsPerEpoch says.</summary>
    public PlannedSample[][] Pass(int pass) => Stream((long)pass * BatchesPerPass, BatchesPerPass);

    /// <summary>Batches <paramref name="first"/> .. first + count - 1 of the stream of passes.</summary>
    private PlannedSample[][] Stream(long first, int count)
    {
        int batchSize = _options.BatchSize;
        var batches = new PlannedSample[count][];
        long orderPass = -1;
        int[] order = [];
        for (int k = 0; k < count; k++)
        {
            long pass = (first + k) / BatchesPerPass;
            int start = (int)((first + k) % BatchesPerPass) * batchSize;
            if (pass != orderPass)
            {
                order = Enumerable.Range(0, _count).ToArray();
                if (_options.Shuffle) Seeds.Shuffle(order, Seeds.Derive(Seeds.ShuffleSalt, _options.Seed, pass));
                orderPass = pass;
            }
            var items = new PlannedSample[Math.Min(batchSize, _count - start)];
            for (int i = 0; i < items.Length; i++)
                items[i] = new PlannedSample(order[start + i], Seeds.Derive(Seeds.SampleSalt, _options.Seed, pass, start + i));
            batches[k] = items;
        }
        return batches;
    }
}
