using SkiaSharp;

namespace SharpVision.Imaging;

/// <summary>Writes <see cref="RgbImage"/>s as PNG or JPEG files with SkiaSharp.</summary>
public static class ImageEncoder
{
    /// <summary>Lossless PNG bytes of the image.</summary>
    public static byte[] EncodePng(RgbImage image) => Encode(image, SKEncodedImageFormat.Png, 100);

    /// <summary>
    /// Lossless 8-bit grayscale PNG bytes of <paramref name="width"/> x <paramref name="height"/> values, row-major (a
    /// third of an RGB PNG's pixel data; decoders read it back with R = G = B = the value).
    /// </summary>
    public static byte[] EncodeGrayPng(ReadOnlySpan<byte> values, int width, int height)
    {
        if (width < 1 || height < 1 || values.Length != width * height)
            throw new ArgumentException($"expected {width}x{height} = {width * height} values, got {values.Length}", nameof(values));
        using var image = SKImage.FromPixelCopy(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque), values);
        using SKData? data = image.Encode(SKEncodedImageFormat.Png, 100);
        if (data is null)
            throw new SharpVisionException($"SkiaSharp could not encode a {width}x{height} grayscale image as PNG");
        return data.ToArray();
    }

    /// <summary>JPEG bytes of the image at <paramref name="quality"/> (1..100).</summary>
    public static byte[] EncodeJpeg(RgbImage image, int quality = 95)
    {
        if (quality is < 1 or > 100)
            throw new InvalidOptionException("ImageEncoder.JpegQuality", "an integer from 1 to 100", quality.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return Encode(image, SKEncodedImageFormat.Jpeg, quality);
    }

    /// <summary>Saves the image as PNG at <paramref name="path"/>, creating the folder if needed.</summary>
    public static void SavePng(RgbImage image, string path) => Write(path, EncodePng(image));

    /// <summary>Saves the image as JPEG at <paramref name="path"/>, creating the folder if needed.</summary>
    public static void SaveJpeg(RgbImage image, string path, int quality = 95) => Write(path, EncodeJpeg(image, quality));

    private static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality)
    {
        ArgumentNullException.ThrowIfNull(image);
        using SKBitmap bitmap = SkiaConvert.ToBitmap(image);
        using SKData? data = bitmap.Encode(format, quality);
        if (data is null)
            throw new SharpVisionException($"SkiaSharp could not encode a {image.Width}x{image.Height} image as {format}");
        return data.ToArray();
    }

    private static void Write(string path, byte[] bytes)
    {
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, bytes);
    }
}
