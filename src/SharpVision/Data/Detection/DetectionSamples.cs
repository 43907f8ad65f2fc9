using SharpVision.Augmentation;
using SharpVision.Imaging;
using static TorchSharp.torch;

namespace SharpVision.Data.Detection;

/// <summary>A detection sample's target: its boxes in input pixels after the letterbox, and how many it lost.</summary>
/// <param name="Boxes">The boxes that survived augmentation.</param>
/// <param name="Dropped">Boxes the augmentation left under a pixel inside the input.</param>
public sealed record SampleBoxes(IReadOnlyList<BoxLabel> Boxes, int Dropped);

/// <summary>
/// Detection's per-sample work: decode, letterbox to Size x Size with <see cref="BoxAugment"/> (random scale, shift,
/// flip and HSV when <paramref name="augment"/> is set), planar RGB floats in 0..1, and the boxes moved by the same
/// transform. A batch's labels are [B, M, 5] float32 (x1, y1, x2, y2, class; rows past an image's boxes are -1).
/// </summary>
/// <param name="dataset">The data set.</param>
/// <param name="size">Input side in pixels.</param>
/// <param name="augment">Random letterbox/flip/HSV settings; null = the centred letterbox only.</param>
public sealed class DetectionSamples(DetectionDataset dataset, int size, BoxAugmentOptions? augment) : ISampleProducer<SampleBoxes>
{
    private int _droppedBoxes;

    /// <summary>Boxes dropped so far in the batches assembled (over all epochs).</summary>
    public int DroppedBoxes => Volatile.Read(ref _droppedBoxes);

    /// <inheritdoc/>
    public int Count => dataset.Samples.Count;

    /// <inheritdoc/>
    public string? Origin => dataset.Origin;

    /// <inheritdoc/>
    public (int Channels, int Height, int Width) SampleShape => (3, size, size);

    /// <inheritdoc/>
    public string PathOf(int index) => dataset.Samples[index].ImagePath;

    /// <inheritdoc/>
    public SampleBoxes Produce(int index, Random random, Span<float> pixels)
    {
        var sample = dataset.Samples[index];
        var image = ImageDecoder.Decode(sample.ImagePath);
        BoxAugment.Result moved;
        if (augment is { Mosaic: > 0 } && random.NextDouble() < augment.Mosaic)
        {
            // Three more images drawn from the data set by this sample's own generator (so a seed gives the same mosaic);
            // one that cannot be read is replaced by this sample's image.
            var parts = new List<(RgbImage, IReadOnlyList<BoxLabel>)> { (image, sample.Boxes) };
            for (int k = 0; k < 3; k++)
            {
                var other = dataset.Samples[random.Next(dataset.Samples.Count)];
                try { parts.Add((ImageDecoder.Decode(other.ImagePath), other.Boxes)); }
                catch (ImageDecodeException) { parts.Add((image, sample.Boxes)); }
            }
            moved = BoxAugment.Mosaic(parts, size, augment, random);
        }
        else moved = BoxAugment.Apply(image, sample.Boxes, size, augment, augment is null ? null : random);
        DetectionLoader.ToPlanar(moved.Image, pixels);
        return new SampleBoxes(moved.Boxes, moved.Dropped);
    }

    /// <inheritdoc/>
    public Tensor Targets(IReadOnlyList<SampleBoxes> targets)
    {
        Interlocked.Add(ref _droppedBoxes, targets.Sum(t => t.Dropped));
        int rows = Math.Max(1, targets.Max(t => t.Boxes.Count)); // M: the most boxes of any image in the batch
        var labels = new float[targets.Count * rows * 5];
        Array.Fill(labels, -1f);
        for (int i = 0; i < targets.Count; i++)
        {
            for (int j = 0; j < targets[i].Boxes.Count; j++)
            {
                var box = targets[i].Boxes[j];
                int o = (i * rows + j) * 5;
                labels[o] = box.X1; labels[o + 1] = box.Y1; labels[o + 2] = box.X2; labels[o + 3] = box.Y2; labels[o + 4] = box.ClassId;
            }
        }
        return tensor(labels, [targets.Count, rows, 5]); // [B, M, 5]
    }
}
