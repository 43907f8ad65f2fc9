namespace SharpVision.Data;

/// <summary>How a loader (<see cref="DataLoader"/>, or any <see cref="BatchLoader{TTarget}"/>) batches, orders and parallelises the samples.</summary>
public sealed record DataLoaderOptions
{
    /// <summary>Samples per batch (the last batch of a pass may be smaller unless <see cref="DropLast"/>).</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Reshuffle the sample order every pass (training); false keeps dataset order (evaluation).</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>Seed of the order and of every sample's augmentation: the same seed gives the same batches, bit for bit.</summary>
    public int Seed { get; init; }
    /// <summary>Decode threads; 0 decodes on the thread that enumerates. Default from <see cref="ThreadPlan.Choose"/>.</summary>
    public int Workers { get; init; } = ThreadPlan.Choose(Environment.ProcessorCount, null).Workers;
    /// <summary>Batches the workers may prepare ahead of the consumer (the bounded queue's capacity).</summary>
    public int PrefetchBatches { get; init; } = 2;
    /// <summary>
    /// Batches per epoch, or null for one pass over the data (Keras' <c>steps_per_epoch</c>). When set, epochs
    /// cut an endless stream of reshuffled passes, continuing across epochs (see <see cref="BatchLoader{TTarget}"/>).
    /// </summary>
    public int? StepsPerEpoch { get; init; }
    /// <summary>Drop the last, smaller batch of each pass.</summary>
    public bool DropLast { get; init; }
}
