using SharpVision.Imaging;
using SkiaSharp;

namespace SharpVision.Tests.Imaging;

public class ImageEncoderTests
{
    [Fact]
    public void SavePng_writes_a_file_that_decodes_to_the_same_pixels_creating_the_folder()
    {
        RgbImage image = TestImages.Gradient(9, 4);
        string dir = Path.Combine(Path.GetTempPath(), $"sv-enc-{Guid.NewGuid():N}");
        string path = Path.Combine(dir, "sub", "a.png");
        try
        {
            ImageEncoder.SavePng(image, path);

            Assert.Equal(image.Pixels, ImageDecoder.Decode(path).Pixels);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void SaveJpeg_writes_a_jpeg_whose_size_shrinks_with_quality()
    {
        var image = new RgbImage(64, 64);
        new Random(4).NextBytes(image.Pixels);
        string path = Path.Combine(Path.GetTempPath(), $"sv-enc-{Guid.NewGuid():N}.jpg");
        try
        {
            ImageEncoder.SaveJpeg(image, path, 95);
            byte[] high = File.ReadAllBytes(path);
            byte[] low = ImageEncoder.EncodeJpeg(image, 20);

            Assert.Equal(new byte[] { 0xFF, 0xD8 }, high[..2]);
            Assert.True(low.Length < high.Length, $"q20 {low.Length} bytes vs q95 {high.Length}");
            Assert.Equal(64, ImageDecoder.Decode(path).Width);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Jpeg_quality_outside_1_to_100_is_rejected()
    {
        var e = Assert.Throws<InvalidOptionException>(() => ImageEncoder.EncodeJpeg(TestImages.Gradient(2, 2), 0));
        Assert.Contains("Received: ImageEncoder.JpegQuality=0", e.Message);
    }

    [Fact]
    public void SkiaConvert_round_trips_and_draws_land_on_the_image()
    {
        RgbImage image = TestImages.Gradient(8, 6);

        using SKBitmap bitmap = SkiaConvert.ToBitmap(image);
        using (var canvas = new SKCanvas(bitmap))
        using (var paint = new SKPaint { Color = new SKColor(1, 2, 3), IsAntialias = false })
            canvas.DrawRect(new SKRect(0, 0, 2, 2), paint);
        RgbImage back = SkiaConvert.FromBitmap(bitmap);

        Assert.Equal(((byte)1, (byte)2, (byte)3), back[1, 1]);
        Assert.Equal(image[5, 4], back[5, 4]);
    }

    [Fact]
    public void FromBitmap_unpremultiplies_a_premultiplied_bitmap()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(1, 1, SKColorType.Bgra8888, SKAlphaType.Premul));
        bitmap.SetPixel(0, 0, new SKColor(200, 100, 50, 128));

        var (r, g, b) = SkiaConvert.FromBitmap(bitmap)[0, 0];

        Assert.InRange(r, 197, 203);
        Assert.InRange(g, 97, 103);
        Assert.InRange(b, 47, 53);
    }
}
