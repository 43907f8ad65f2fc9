using SharpVision.Augmentation;
using SharpVision.Imaging;

namespace SharpVision.Data;

/// <summary>
/// The per-sample work the loader runs on its worker threads: decode (EXIF-oriented, pixel-limited), resize to
/// the network's input size, then the random augmentation drawn from the sample's own <see cref="Random"/>.
/// Keras does the same (load_img with target_size, then random_transform).
/// </summary>
public static class ImagePipeline
{
    public static Func<string, Random, RgbImage> Create(Preprocessing preprocessing, Augmenter? augmenter = null, DecodeOptions? decode = null)
    {
        int size = preprocessing.Size;
        // Decoding may shrink a JPEG by its DCT scale first, never below the target size.
        var options = (decode ?? DecodeOptions.Default) with { TargetSize = (size, size) };
        var interpolation = preprocessing.Interpolation;
        bool augment = augmenter is not null && !augmenter.Options.IsIdentity;
        return (path, rng) =>
        {
            var image = ImageDecoder.Decode(path, options);
            if (image.Width != size || image.Height != size)
                image = Resizer.Resize(image, size, size, interpolation);
            return augment ? augmenter!.Apply(image, rng) : image;
        };
    }
}
