using static TorchSharp.torch;

namespace SharpVision.Data;

/// <summary>
/// The per-sample half of a loader (the other half is <see cref="BatchLoader{TTarget}"/>): turns sample i of a data
/// set into planar floats and a target. Classification runs its image pipeline and <see cref="Imaging.Preprocessing.Fill"/>
/// and targets a label; detection decodes, letterboxes and augments and targets the moved boxes.
/// </summary>
/// <typeparam name="TTarget">What a sample contributes to the batch's <see cref="Batch.Labels"/>.</typeparam>
public interface ISampleProducer<TTarget>
{
    /// <summary>Samples in the data set.</summary>
    int Count { get; }

    /// <summary>Where the samples were read from, to prefix data set errors; null when there is nothing to say.</summary>
    string? Origin { get; }

    /// <summary>Shape of one sample's pixels, [C, H, W]: every sample fills exactly C*H*W floats.</summary>
    (int Channels, int Height, int Width) SampleShape { get; }

    /// <summary>The file of sample <paramref name="index"/>, to report it when it cannot be used.</summary>
    string PathOf(int index);

    /// <summary>
    /// Runs on a worker thread, concurrently with other samples: writes sample <paramref name="index"/> into
    /// <paramref name="pixels"/> (C*H*W floats, planar) and returns its target. Every random choice comes from
    /// <paramref name="random"/> (and only from it, or determinism is lost). Makes no tensor: dispose scopes are per
    /// thread. Throws <see cref="ImageDecodeException"/> (or an I/O error) for an unusable file.
    /// </summary>
    TTarget Produce(int index, Random random, Span<float> pixels);

    /// <summary>
    /// Runs on the enumerating thread: the labels tensor of one batch from its readable samples' targets, in row
    /// order (never empty). The caller owns the tensor.
    /// </summary>
    Tensor Targets(IReadOnlyList<TTarget> targets);
}
