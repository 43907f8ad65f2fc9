using SharpVision.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Data;

/// <summary>
/// Classification's per-sample work: the image pipeline (decode, resize, augment) then <see cref="Preprocessing.Fill"/>
/// into the sample's [C, Size, Size] floats; the target is the class index, and a batch's labels are [B] int64.
/// </summary>
/// <param name="dataset">The samples and classes.</param>
/// <param name="pipeline">
/// Reads the file at the path, decodes, resizes and augments it to exactly Size x Size of <paramref name="preprocessing"/>,
/// drawing every random choice from the given <see cref="Random"/>. Throws <see cref="ImageDecodeException"/> for an
/// unusable file. Called concurrently from several threads.
/// </param>
/// <param name="preprocessing">Turns the pipeline's image into [C, Size, Size] floats.</param>
public sealed class ClassificationSamples(ClassificationDataset dataset, Func<string, Random, RgbImage> pipeline, Preprocessing preprocessing)
    : ISampleProducer<long>
{
    /// <inheritdoc/>
    public int Count => dataset.Count;

    /// <inheritdoc/>
    public string? Origin => null;

    /// <inheritdoc/>
    public (int Channels, int Height, int Width) SampleShape => (preprocessing.Channels, preprocessing.Size, preprocessing.Size);

    /// <inheritdoc/>
    public string PathOf(int index) => dataset.Samples[index].Path;

    /// <inheritdoc/>
    public long Produce(int index, Random random, Span<float> pixels)
    {
        var sample = dataset.Samples[index];
        preprocessing.Fill(pipeline(sample.Path, random), pixels);
        return sample.Label;
    }

    /// <inheritdoc/>
    public Tensor Targets(IReadOnlyList<long> targets) => torch.tensor(targets.ToArray(), [targets.Count], ScalarType.Int64); // [B]
}
