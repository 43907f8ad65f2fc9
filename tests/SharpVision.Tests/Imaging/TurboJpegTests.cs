using SharpVision.Imaging;
using SkiaSharp;

namespace SharpVision.Tests.Imaging;

/// <summary>
/// The two JPEG paths of <see cref="ImageDecoder"/>: the system's libturbojpeg (SIMD) when present and SkiaSharp's
/// bundled libjpeg-turbo, which is both the fallback and the reference the fast path must match.
/// </summary>
public class TurboJpegTests
{
    private static readonly DecodeOptions Skia = new() { Jpeg = JpegDecoder.SkiaSharp };

    /// <summary>A photo-like 501x377 image (odd size: partial DCT blocks at both edges): gradients, discs, noise.</summary>
    private static RgbImage Scene(int seed)
    {
        var rng = new Random(seed);
        var image = new RgbImage(501, 377);
        (double X, double Y, double R, byte[] Colour)[] discs = Enumerable.Range(0, 6)
            .Select(_ => (rng.NextDouble() * 501, rng.NextDouble() * 377, 20 + rng.NextDouble() * 80,
                new[] { (byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256) }))
            .ToArray();
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                byte r = (byte)(x * 255 / 500), g = (byte)(y * 255 / 376), b = (byte)((x + y) % 256);
                foreach (var d in discs)
                    if ((x - d.X) * (x - d.X) + (y - d.Y) * (y - d.Y) < d.R * d.R)
                        (r, g, b) = (d.Colour[0], d.Colour[1], d.Colour[2]);
                int n = rng.Next(-12, 13);
                image[x, y] = ((byte)Math.Clamp(r + n, 0, 255), (byte)Math.Clamp(g + n, 0, 255), (byte)Math.Clamp(b + n, 0, 255));
            }
        }
        return image;
    }

    private static byte[] GrayJpeg(RgbImage image, int quality)
    {
        using var gray = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Gray8, SKAlphaType.Opaque));
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
                gray.SetPixel(x, y, new SKColor(image[x, y].R, image[x, y].R, image[x, y].R));
        using SKData data = gray.Encode(SKEncodedImageFormat.Jpeg, quality);
        return data.ToArray();
    }

    private static (double MeanAbs, int MaxAbs) Difference(RgbImage a, RgbImage b)
    {
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        long sum = 0;
        int max = 0;
        for (int i = 0; i < a.Pixels.Length; i++)
        {
            int d = Math.Abs(a.Pixels[i] - b.Pixels[i]);
            sum += d;
            max = Math.Max(max, d);
        }
        return ((double)sum / a.Pixels.Length, max);
    }

    [TurboJpegFact]
    public void Both_decoders_give_the_same_pixels_at_every_dct_scale()
    {
        // Given colour (4:2:0, as SkiaSharp encodes) and grayscale JPEGs of an odd-sized photo-like scene
        RgbImage scene = Scene(7);
        byte[][] jpegs = [ImageEncoder.EncodeJpeg(scene, 90), ImageEncoder.EncodeJpeg(scene, 60), GrayJpeg(scene, 90)];
        // Targets that select the full size, 1/2 (251x189), 1/4 (126x95) and 1/8 (63x48)
        (int W, int H)[] targets = [(501, 377), (251, 189), (126, 95), (63, 48)];

        foreach (byte[] jpeg in jpegs)
        {
            foreach (var target in targets)
            {
                var options = new DecodeOptions { TargetSize = target };
                RgbImage fast = ImageDecoder.Decode(jpeg, "scene.jpg", options);
                RgbImage reference = ImageDecoder.Decode(jpeg, "scene.jpg", options with { Jpeg = JpegDecoder.SkiaSharp });

                // Then libturbojpeg decoded it (not a silent fallback) to the same size, and the pixels agree:
                // both are libjpeg-turbo with the accurate integer IDCT and fancy upsampling, SIMD or not (identical
                // with Debian 12's libturbojpeg 2.1.5; the tolerance leaves room for other versions).
                Assert.NotNull(TurboJpeg.TryDecode(jpeg, fast.Width, fast.Height));
                Assert.Equal(target, (fast.Width, fast.Height));
                var (mean, max) = Difference(reference, fast);
                Assert.True(mean < 0.05 && max <= 2, $"{target}: mean abs {mean:F4}, max {max}");
            }
        }
    }

    [TurboJpegFact]
    public void Exif_rotation_applies_to_the_fast_path_too()
    {
        RgbImage scene = Scene(3);
        byte[] rotated = TestImages.WithExifOrientation(ImageEncoder.EncodeJpeg(scene, 90), 6); // 90 degrees clockwise

        RgbImage fast = ImageDecoder.Decode(rotated, "r.jpg", new DecodeOptions { TargetSize = (189, 251) });
        RgbImage reference = ImageDecoder.Decode(rotated, "r.jpg", new DecodeOptions { TargetSize = (189, 251), Jpeg = JpegDecoder.SkiaSharp });

        Assert.Equal((189, 251), (fast.Width, fast.Height));
        Assert.True(Difference(reference, fast).MaxAbs <= 2);
    }

    [TurboJpegFact]
    public void A_jpeg_libturbojpeg_refuses_falls_back_to_skiasharp_and_its_message()
    {
        // CMYK: TurboJPEG cannot convert it to RGB; SkiaSharp can
        byte[] cmyk = TestImages.CmykJpeg(0, 255, 255, 0);
        Assert.Null(TurboJpeg.TryDecode(cmyk, 8, 8));
        RgbImage red = ImageDecoder.Decode(cmyk, "cmyk.jpg");
        Assert.Equal(red[0, 0], ImageDecoder.Decode(cmyk, "cmyk.jpg", Skia)[0, 0]);

        // Truncated: libturbojpeg warns (so returns nothing), SkiaSharp names the error
        byte[] full = ImageEncoder.EncodeJpeg(Scene(5), 90);
        byte[] cut = full[..(full.Length / 2)];
        Assert.Null(TurboJpeg.TryDecode(cut, 501, 377));
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(cut, "cut.jpg"));
        Assert.StartsWith("truncated or corrupt image data", e.Reason);
    }

    [Fact]
    public void SkiaSharp_alone_decodes_every_scale_close_to_the_original()
    {
        // The fallback (no libturbojpeg, or JpegDecoder.SkiaSharp): same sizes, pixels close to the source
        RgbImage scene = Scene(11);
        byte[] jpeg = ImageEncoder.EncodeJpeg(scene, 95);

        RgbImage full = ImageDecoder.Decode(jpeg, "s.jpg", Skia);
        RgbImage half = ImageDecoder.Decode(jpeg, "s.jpg", Skia with { TargetSize = (251, 189) });

        Assert.Equal((501, 377), (full.Width, full.Height));
        Assert.Equal((251, 189), (half.Width, half.Height));
        Assert.True(Difference(scene, full).MeanAbs < 6, $"mean abs {Difference(scene, full).MeanAbs:F2}");
    }

    [Theory]
    [InlineData(501, 377, 501, 377, true)]
    [InlineData(501, 377, 251, 189, true)]
    [InlineData(501, 377, 250, 188, false)] // rounded down: not libjpeg's size
    [InlineData(501, 377, 126, 95, true)]
    [InlineData(501, 377, 63, 48, true)]
    [InlineData(501, 377, 300, 226, false)] // 3/5: no DCT scale we use
    public void Dct_scales_are_libjpegs_rounded_up_sizes(int w, int h, int width, int height, bool expected) =>
        Assert.Equal(expected, TurboJpeg.IsDctScale(w, h, width, height));
}

/// <summary>A fact that runs where the system's libturbojpeg loads (Debian: libturbojpeg0), and says why it skips otherwise.</summary>
public sealed class TurboJpegFactAttribute : FactAttribute
{
    public TurboJpegFactAttribute()
    {
        if (!TurboJpeg.IsAvailable)
            Skip = "libturbojpeg is not installed (Debian/Ubuntu: apt-get install libturbojpeg0): only the SkiaSharp JPEG path is tested";
    }
}
