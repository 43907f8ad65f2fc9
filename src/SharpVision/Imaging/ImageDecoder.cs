using System.Buffers;
using SkiaSharp;

namespace SharpVision.Imaging;

/// <summary>Limits and hints for <see cref="ImageDecoder"/>.</summary>
public sealed record DecodeOptions
{
    /// <summary>PIL's decompression-bomb limit: images with more pixels are refused before decoding.</summary>
    public const long DefaultMaxPixels = 89_478_485;

    /// <summary>Largest width x height accepted, checked from the header before any pixel is decoded.</summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    /// <summary>
    /// Optional size the image will be resized to next. A JPEG much larger than this is decoded at a reduced
    /// DCT scale (1/2, 1/4 or 1/8), never below this size in either dimension (after EXIF rotation).
    /// Null decodes at full size. Results stay deterministic: the same file and hint give the same pixels.
    /// </summary>
    public (int Width, int Height)? TargetSize { get; init; }

    /// <summary>Which library decodes JPEGs; other formats always go through SkiaSharp.</summary>
    public JpegDecoder Jpeg { get; init; } = JpegDecoder.Auto;

    /// <summary>The defaults: PIL's pixel limit, full-size decoding, the fastest JPEG decoder present.</summary>
    public static DecodeOptions Default { get; } = new();
}

/// <summary>The JPEG decoder <see cref="ImageDecoder"/> uses.</summary>
public enum JpegDecoder
{
    /// <summary>The system's libturbojpeg (SIMD) when it loads (<see cref="TurboJpeg"/>), else SkiaSharp; a JPEG that
    /// libturbojpeg refuses or warns about (truncated, CMYK) is decoded by SkiaSharp, which names any error.</summary>
    Auto,

    /// <summary>Always SkiaSharp's bundled libjpeg-turbo (no SIMD on x64).</summary>
    SkiaSharp,
}

/// <summary>
/// Decodes JPEG, PNG, BMP, GIF (first frame) and WebP into 8-bit <see cref="RgbImage"/>s with SkiaSharp (JPEG pixels
/// by the system's SIMD libturbojpeg when present, see <see cref="JpegDecoder"/>; SkiaSharp still reads every header).
/// The format is found from the content, EXIF orientation is applied, alpha is dropped (unpremultiplied colours,
/// like PIL's <c>convert('RGB')</c>). Stateless and thread-safe: every call uses its own codec.
/// Every failure is an <see cref="ImageDecodeException"/> naming the file and the reason.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Reads and decodes the file at <paramref name="path"/>.</summary>
    public static RgbImage Decode(string path, DecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException)
        {
            throw new ImageDecodeException(path, "file not found");
        }
        catch (DirectoryNotFoundException)
        {
            throw new ImageDecodeException(path, "file not found (directory does not exist)");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ImageDecodeException(path, Directory.Exists(path) ? "is a directory, not an image file" : $"cannot be read ({e.Message})");
        }
        catch (IOException e)
        {
            throw new ImageDecodeException(path, $"cannot be read ({e.Message})");
        }
        return Decode(data, path, options);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="nameForMessages"/> names it in errors.</summary>
    public static RgbImage Decode(byte[] data, string nameForMessages, DecodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Decode(data.AsSpan(), nameForMessages, options);
    }

    /// <summary>Decodes an encoded image held in memory; <paramref name="nameForMessages"/> names it in errors.</summary>
    public static unsafe RgbImage Decode(ReadOnlySpan<byte> data, string nameForMessages, DecodeOptions? options = null)
    {
        options ??= DecodeOptions.Default;
        if (data.Length == 0)
            throw new ImageDecodeException(nameForMessages, "empty file (0 bytes)");

        fixed (byte* p = data)
        {
            // SKData over our pinned buffer (no copy); the codec and the data die before `fixed` ends.
            using var skData = SKData.Create((IntPtr)p, data.Length);
            using var codec = SKCodec.Create(skData);
            if (codec is null)
                throw new ImageDecodeException(nameForMessages, LooksLikeKnownFormat(data)
                    ? "truncated or corrupt image data (header unreadable)"
                    : "not an image (unrecognised format)");
            return DecodeWith(codec, data, nameForMessages, options);
        }
    }

    private static RgbImage DecodeWith(SKCodec codec, ReadOnlySpan<byte> data, string name, DecodeOptions options)
    {
        SKImageInfo encoded = codec.Info;
        long pixels = (long)encoded.Width * encoded.Height;
        if (encoded.Width <= 0 || encoded.Height <= 0)
            throw new ImageDecodeException(name, $"truncated or corrupt image data (size {encoded.Width}x{encoded.Height})");
        if (pixels > options.MaxPixels)
            throw new ImageDecodeException(name,
                $"image is {encoded.Width}x{encoded.Height} = {pixels} pixels, above the limit of {options.MaxPixels} (DecodeOptions.MaxPixels)");

        SKEncodedOrigin origin = codec.EncodedOrigin;
        SKSizeI size = ChooseDecodeSize(codec, origin, options.TargetSize);
        // SkiaSharp still reads the header (format, size, EXIF origin): one source of truth for both decoders.
        if (options.Jpeg == JpegDecoder.Auto && codec.EncodedFormat == SKEncodedImageFormat.Jpeg
            && TurboJpeg.TryDecode(data, size.Width, size.Height) is { } stored)
            return Orientation.Apply(stored, origin);

        // Unpremultiplied RGBA with no colour space: Skia converts grey, palette, CMYK and 16-bit to 8-bit RGBA,
        // keeps colour values under transparent pixels (as PIL's convert('RGB') does) and applies no ICC profile.
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul, null);
        // Pooled: a photo's RGBA buffer is large and short-lived; the codec writes every byte we read back.
        byte[] rgba = ArrayPool<byte>.Shared.Rent(info.BytesSize);
        try
        {
            SKCodecResult result;
            unsafe
            {
                fixed (byte* dst = rgba)
                {
                    result = codec.GetPixels(info, (IntPtr)dst, info.RowBytes, new SKCodecOptions(0));
                }
            }
            ThrowIfFailed(result, name);
            var image = PackRgb(rgba, size.Width, size.Height);
            return Orientation.Apply(image, origin);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgba);
        }
    }

    private static void ThrowIfFailed(SKCodecResult result, string name)
    {
        if (result != SKCodecResult.Success)
            throw new ImageDecodeException(name, result switch
            {
                SKCodecResult.IncompleteInput => "truncated or corrupt image data (file ends early)",
                SKCodecResult.ErrorInInput => "truncated or corrupt image data",
                SKCodecResult.InvalidConversion => "unsupported pixel format",
                _ => $"cannot be decoded ({result})",
            });
    }

    /// <summary>
    /// Picks the smallest JPEG DCT scale whose output is still at least the target size in both dimensions
    /// (the target is given after EXIF rotation, so it is swapped for the 90-degree origins).
    /// </summary>
    private static SKSizeI ChooseDecodeSize(SKCodec codec, SKEncodedOrigin origin, (int Width, int Height)? target)
    {
        var full = new SKSizeI(codec.Info.Width, codec.Info.Height);
        if (target is not { } t || codec.EncodedFormat != SKEncodedImageFormat.Jpeg || t.Width <= 0 || t.Height <= 0)
            return full;
        bool swapped = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
            or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int tw = swapped ? t.Height : t.Width, th = swapped ? t.Width : t.Height;
        foreach (float scale in (ReadOnlySpan<float>)[0.125f, 0.25f, 0.5f])
        {
            SKSizeI s = codec.GetScaledDimensions(scale);
            if (s.Width >= tw && s.Height >= th && s.Width < full.Width)
                return s;
        }
        return full;
    }

    private static unsafe RgbImage PackRgb(byte[] rgba, int width, int height)
    {
        int n = width * height;
        var rgb = new byte[n * 3];
        fixed (byte* src = rgba)
        fixed (byte* dst = rgb)
        {
            byte* s = src, d = dst;
            for (int i = 0; i < n; i++, s += 4, d += 3)
            {
                d[0] = s[0];
                d[1] = s[1];
                d[2] = s[2];
            }
        }
        return new RgbImage(width, height, rgb);
    }

    /// <summary>Magic numbers of the formats we decode, to tell "corrupt JPEG" from "not an image at all".</summary>
    private static bool LooksLikeKnownFormat(ReadOnlySpan<byte> d) =>
        d.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]) // JPEG
        || d.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) // PNG
        || d.StartsWith("GIF8"u8)
        || d.StartsWith("BM"u8)
        || (d.Length >= 12 && d.StartsWith("RIFF"u8) && d.Slice(8, 4).SequenceEqual("WEBP"u8));
}
