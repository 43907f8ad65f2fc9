using SharpVision.Imaging;
using Encoded = SharpVision.Tests.Imaging.TestImages;

namespace SharpVision.Tests.TestSupport;

/// <summary>One file of the bad-image corpus and what a reader must do with it.</summary>
/// <param name="Name">File name (no folder).</param>
/// <param name="Usable">True for odd but valid images, which must be decoded and used, never skipped.</param>
/// <param name="Reason">For unusable files, how the skip reason starts (what <see cref="ImageDecoder"/> says).</param>
public sealed record BadImage(string Name, bool Usable, string? Reason = null);

/// <summary>
/// A corpus of awkward image files: broken ones that every command must skip with the path and a reason, and
/// valid-but-unusual ones (CMYK, 16-bit, palette with transparency, 1x1, EXIF-rotated, a PNG named .jpg) that must
/// be used. The encoders byte-by-byte live in <see cref="Encoded"/> (the decoder tests' generators), reused here.
/// </summary>
public static class BadImages
{
    /// <summary>Every file of the corpus, in a fixed order.</summary>
    public static IReadOnlyList<BadImage> All { get; } =
    [
        new("zero-bytes.jpg", false, "empty file (0 bytes)"),
        new("truncated.jpg", false, "truncated or corrupt image data"),
        new("truncated.png", false, "truncated or corrupt image data"),
        new("text-file.jpg", false, "not an image (unrecognised format)"),
        new("bomb.png", false, "image is 100000x100000 = 10000000000 pixels, above the limit"),
        new("png-named.jpg", true),
        new("cmyk.jpg", true),
        new("sixteen-bit.png", true),
        new("palette-alpha.png", true),
        new("one-pixel.png", true),
        new("exif-rotated.jpg", true),
    ];

    /// <summary>The broken files (to be skipped).</summary>
    public static IEnumerable<BadImage> Broken => All.Where(b => !b.Usable);

    /// <summary>The odd but valid files (to be used).</summary>
    public static IEnumerable<BadImage> Valid => All.Where(b => b.Usable);

    /// <summary>
    /// Writes the corpus into <paramref name="dir"/>, or only the files <paramref name="which"/> picks; returns the
    /// written paths by name. <paramref name="tint"/> colours the valid images (a class colour), so they are not
    /// noise in a training set.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Write(string dir, Func<BadImage, bool>? which = null,
        (byte R, byte G, byte B) tint = default)
    {
        Directory.CreateDirectory(dir);
        var written = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var b in All.Where(which ?? (_ => true)))
        {
            string path = Path.Combine(dir, b.Name);
            File.WriteAllBytes(path, Bytes(b.Name, tint));
            written[b.Name] = path;
        }
        return written;
    }

    /// <summary>The content of one corpus file.</summary>
    public static byte[] Bytes(string name, (byte R, byte G, byte B) tint = default)
    {
        var (r, g, b) = tint;
        return name switch
        {
            "zero-bytes.jpg" => [],
            // Noise spreads the data over the whole file, so half of it is really missing pixels, not padding.
            "truncated.jpg" => Half(ImageEncoder.EncodeJpeg(Noise(32, 1), 90)),
            "truncated.png" => Half(ImageEncoder.EncodePng(Noise(32, 2))),
            "text-file.jpg" => "this is a text file, saved with an image extension\n"u8.ToArray(),
            // The header claims 100000 x 100000 RGB (30 GB decoded) over a few bytes of data.
            "bomb.png" => Encoded.Png(100_000, 100_000, colourType: 2, bitDepth: 8, [new byte[30]]),
            "png-named.jpg" => ImageEncoder.EncodePng(Flat(16, 16, tint)),
            // Adobe-inverted CMYK whose RGB is the tint (no black).
            "cmyk.jpg" => Encoded.CmykJpeg(r, g, b, 255),
            "sixteen-bit.png" => Encoded.Png(4, 4, colourType: 2, bitDepth: 16,
                [.. Enumerable.Repeat(Enumerable.Repeat(new[] { r, r, g, g, b, b }, 4).SelectMany(p => p).ToArray(), 4)]),
            // Palette with a tRNS chunk: index 0 fully transparent (its colour is kept), index 1 opaque.
            "palette-alpha.png" => Encoded.Png(4, 4, colourType: 3, bitDepth: 8,
                [.. Enumerable.Repeat(new byte[] { 0, 1, 1, 0 }, 4)], palette: [r, g, b, r, g, b], trns: [0, 255]),
            "one-pixel.png" => ImageEncoder.EncodePng(Flat(1, 1, tint)),
            // Stored 24x16, displayed 16x24 (orientation 6: rotate 90 degrees clockwise).
            "exif-rotated.jpg" => Encoded.WithExifOrientation(ImageEncoder.EncodeJpeg(Flat(24, 16, tint), 95), 6),
            _ => throw new ArgumentException($"not a corpus file: {name}", nameof(name)),
        };
    }

    private static byte[] Half(byte[] data) => data[..(data.Length / 2)];

    private static RgbImage Noise(int size, int seed)
    {
        var image = new RgbImage(size, size);
        new Random(seed).NextBytes(image.Pixels);
        return image;
    }

    private static RgbImage Flat(int width, int height, (byte R, byte G, byte B) colour)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = colour;
        return image;
    }
}
