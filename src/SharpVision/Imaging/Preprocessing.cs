namespace SharpVision.Imaging;

/// <summary>
/// How a model wants its pixels: the input size, the channel order, the value range and the normalisation.
/// Stored in every model file so that a model alone says how to feed it.
/// A pixel value v (0..255) of channel c becomes <c>(v * Scale - Mean[c]) / Std[c]</c>, or, with a mean
/// image, <c>v * Scale - MeanImage[c, y, x]</c> (the ML.NET ResNet-18 convention).
/// </summary>
public sealed record Preprocessing
{
    /// <summary>Square input side in pixels (images are resized to Size x Size).</summary>
    public int Size { get; init; } = 224;
    /// <summary>Number of input channels: 3 (RGB) or 1 (grayscale, the mean of R, G and B).</summary>
    public int Channels { get; init; } = 3;
    /// <summary>Channel order fed to the network: "RGB" or "BGR".</summary>
    public string ChannelOrder { get; init; } = "RGB";
    /// <summary>Multiplier applied to 0..255 values first (Keras' <c>rescale</c>): 1/255 gives 0..1.</summary>
    public float Scale { get; init; } = 1f / 255f;
    /// <summary>Per-channel mean subtracted after scaling (in the network's channel order).</summary>
    public float[] Mean { get; init; } = [0f, 0f, 0f];
    /// <summary>Per-channel standard deviation divided by after subtracting the mean.</summary>
    public float[] Std { get; init; } = [1f, 1f, 1f];
    /// <summary>Optional mean image [C, Size, Size] subtracted instead of Mean/Std.</summary>
    public float[]? MeanImage { get; init; }
    /// <summary>Resize interpolation used before the network.</summary>
    public Interpolation Interpolation { get; init; } = Interpolation.Bilinear;

    /// <summary>ImageNet statistics on 0..1 RGB (torchvision's weights).</summary>
    public static Preprocessing ImageNet(int size = 224) => new()
    {
        Size = size,
        Mean = [0.485f, 0.456f, 0.406f],
        Std = [0.229f, 0.224f, 0.225f],
    };

    /// <summary>
    /// The value subtracted from each channel after scaling, in the network's channel order: <see cref="Mean"/>, or,
    /// with a mean image, each channel's average over the image (what a network fed at another size subtracts).
    /// </summary>
    public float[] ChannelMean()
    {
        if (MeanImage is not { } image) return [.. Mean];
        int plane = image.Length / Channels;
        return Enumerable.Range(0, Channels).Select(c =>
        {
            double sum = 0;
            foreach (float v in image.AsSpan(c * plane, plane)) sum += v;
            return (float)(sum / plane);
        }).ToArray();
    }

    /// <summary>
    /// Images of any size as one planar [N, C, Size, Size] float batch: each resized to Size x Size with
    /// <see cref="Interpolation"/> (when it is not already), then <see cref="Fill"/>.
    /// </summary>
    public float[] Batch(IReadOnlyList<RgbImage> images)
    {
        int per = Channels * Size * Size;
        var data = new float[images.Count * per];
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i];
            if (image.Width != Size || image.Height != Size) image = Resizer.Resize(image, Size, Size, Interpolation);
            Fill(image, data.AsSpan(i * per, per));
        }
        return data;
    }

    /// <summary>
    /// Writes an image that is already Size x Size into <paramref name="destination"/> as planar
    /// [C, Size, Size] floats, applying channel order, scale and normalisation.
    /// </summary>
    public void Fill(RgbImage image, Span<float> destination)
    {
        if (image.Width != Size || image.Height != Size)
            throw new ArgumentException($"expected a {Size}x{Size} image, got {image.Width}x{image.Height}", nameof(image));
        int plane = Size * Size;
        if (destination.Length != plane * Channels)
            throw new ArgumentException($"destination holds {destination.Length} floats, expected {plane * Channels}", nameof(destination));
        byte[] px = image.Pixels;
        if (Channels == 1)
        {
            float mean = Mean[0], inv = 1f / Std[0];
            for (int i = 0; i < plane; i++)
            {
                float v = (px[i * 3] + px[i * 3 + 1] + px[i * 3 + 2]) / 3f * Scale;
                destination[i] = MeanImage is null ? (v - mean) * inv : v - MeanImage[i];
            }
            return;
        }
        bool bgr = ChannelOrder == "BGR";
        for (int c = 0; c < 3; c++)
        {
            int source = bgr ? 2 - c : c;
            float mean = Mean[c], inv = 1f / Std[c];
            Span<float> dst = destination.Slice(c * plane, plane);
            if (MeanImage is null)
                for (int i = 0; i < plane; i++) dst[i] = (px[i * 3 + source] * Scale - mean) * inv;
            else
                for (int i = 0; i < plane; i++) dst[i] = px[i * 3 + source] * Scale - MeanImage[c * plane + i];
        }
    }
}
