using SharpVision.Augmentation;
using SharpVision.Imaging;

namespace SharpVision.Data;

/// <summary>
/// The per-sample work the loader runs on its worker threads: decode (EXIF-oriented, pixel-limited), resize to
/// the network's input size, then the random augmentation drawn from the sample's own <see cref="Random"/>.
/// Keras does the same (load_img with target_size, then random_transform); with augmentation we fold the resize
/// into the augmentation's warp (one resampling, see <see cref="Augmenter.Apply(RgbImage, Random, int, int, Interpolation)"/>). Every engine that feeds a classifier
/// from files (TorchSharp through the loader, ONNX Runtime in <see cref="Evaluation.ClassifierInference"/>) gets
/// its pixels from <see cref="Input"/>, so the same file gives the same input tensor whichever runs the network.
/// </summary>
public static class ImagePipeline
{
    public static Func<string, Random, RgbImage> Create(Preprocessing preprocessing, Augmenter? augmenter = null, DecodeOptions? decode = null)
    {
        if (augmenter is null || augmenter.Options.IsIdentity)
        {
            var input = Input(preprocessing, decode);
            return (path, _) => input(path);
        }
        // Training: decode (at the JPEG DCT scale, never below the input size), then one warp that both augments and
        // resizes to Size x Size: no separate resize pass, no intermediate image.
        int size = preprocessing.Size;
        var options = Decoding(preprocessing, decode);
        var interpolation = preprocessing.Interpolation;
        return (path, rng) => augmenter.Apply(ImageDecoder.Decode(path, options), rng, size, size, interpolation);
    }

    /// <summary>
    /// The deterministic part: reads the file at a path and returns it as the network's Size x Size input image
    /// (before <see cref="Preprocessing.Fill"/>). Throws <see cref="ImageDecodeException"/> for an unusable file.
    /// </summary>
    public static Func<string, RgbImage> Input(Preprocessing preprocessing, DecodeOptions? decode = null)
    {
        int size = preprocessing.Size;
        var options = Decoding(preprocessing, decode);
        var interpolation = preprocessing.Interpolation;
        return path =>
        {
            var image = ImageDecoder.Decode(path, options);
            return image.Width == size && image.Height == size ? image : Resizer.Resize(image, size, size, interpolation);
        };
    }

    /// <summary>Decoding may shrink a JPEG by its DCT scale first, never below the input size.</summary>
    private static DecodeOptions Decoding(Preprocessing preprocessing, DecodeOptions? decode) =>
        (decode ?? DecodeOptions.Default) with { TargetSize = (preprocessing.Size, preprocessing.Size) };
}
