using SharpVision.Imaging;
using SkiaSharp;

namespace SharpVision.Tests.Imaging;

public class ImageDecoderTests
{
    private static string TempFile(string name) =>
        Path.Combine(Path.GetTempPath(), $"sv-dec-{Guid.NewGuid():N}-{name}");

    private static void AssertClose(RgbImage expected, RgbImage actual, int tolerance)
    {
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        for (int i = 0; i < expected.Pixels.Length; i++)
            Assert.True(Math.Abs(expected.Pixels[i] - actual.Pixels[i]) <= tolerance,
                $"byte {i}: expected {expected.Pixels[i]}, got {actual.Pixels[i]}");
    }

    [Fact]
    public void Png_round_trips_exactly()
    {
        RgbImage image = TestImages.Gradient(7, 5);

        RgbImage decoded = ImageDecoder.Decode(ImageEncoder.EncodePng(image), "mem.png");

        Assert.Equal(image.Pixels, decoded.Pixels);
        Assert.Equal((7, 5), (decoded.Width, decoded.Height));
    }

    [Fact]
    public void Format_is_found_from_content_so_a_png_named_jpg_decodes()
    {
        RgbImage image = TestImages.Gradient(4, 3);
        string path = TempFile("actually-png.jpg");
        ImageEncoder.SavePng(image, path);
        try
        {
            Assert.Equal(image.Pixels, ImageDecoder.Decode(path).Pixels);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Jpeg_and_webp_decode_close_to_the_original()
    {
        // Given a flat two-colour image (few JPEG artefacts)
        var image = new RgbImage(16, 16);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
                image[x, y] = x < 8 ? ((byte)200, (byte)40, (byte)40) : ((byte)30, (byte)90, (byte)220);
        using SKBitmap bmp = SkiaConvert.ToBitmap(image);
        using SKData webp = bmp.Encode(SKEncodedImageFormat.Webp, 100);

        RgbImage fromJpeg = ImageDecoder.Decode(ImageEncoder.EncodeJpeg(image, 100), "mem.jpg");
        RgbImage fromWebp = ImageDecoder.Decode(webp.ToArray(), "mem.webp");

        Assert.Equal(image[2, 2], fromJpeg[2, 2], new NearColour(8));
        Assert.Equal(image[13, 13], fromJpeg[13, 13], new NearColour(8));
        AssertClose(image, fromWebp, 4);
    }

    [Fact]
    public void Bmp_decodes_exactly()
    {
        RgbImage image = TestImages.Gradient(5, 3); // odd width: rows are padded
        Assert.Equal(image.Pixels, ImageDecoder.Decode(TestImages.Bmp(image), "x.bmp").Pixels);
    }

    [Fact]
    public void Gif_decodes_its_first_frame_through_the_palette()
    {
        byte[] palette = [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255];
        byte[] gif = TestImages.Gif(2, 2, palette, [1, 2, 3, 0], frames: 2);

        RgbImage decoded = ImageDecoder.Decode(gif, "anim.gif");

        Assert.Equal(new byte[] { 255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0 }, decoded.Pixels);
    }

    [Fact]
    public void Grayscale_png_becomes_equal_rgb()
    {
        byte[] png = TestImages.Png(3, 1, colourType: 0, bitDepth: 8, [[0, 128, 255]]);

        RgbImage decoded = ImageDecoder.Decode(png, "grey.png");

        Assert.Equal(new byte[] { 0, 0, 0, 128, 128, 128, 255, 255, 255 }, decoded.Pixels);
    }

    [Fact]
    public void Palette_png_is_expanded()
    {
        byte[] png = TestImages.Png(2, 1, colourType: 3, bitDepth: 8, [[1, 0]], palette: [10, 20, 30, 40, 50, 60]);

        Assert.Equal(new byte[] { 40, 50, 60, 10, 20, 30 }, ImageDecoder.Decode(png, "pal.png").Pixels);
    }

    [Fact]
    public void Sixteen_bit_png_becomes_eight_bit()
    {
        // Given 16-bit RGB samples 0xFFFF, 0x8080, 0x0000 (8-bit 255, 128, 0)
        byte[] png = TestImages.Png(1, 1, colourType: 2, bitDepth: 16, [[0xFF, 0xFF, 0x80, 0x80, 0x00, 0x00]]);

        Assert.Equal(new byte[] { 255, 128, 0 }, ImageDecoder.Decode(png, "deep.png").Pixels);
    }

    [Fact]
    public void Cmyk_jpeg_becomes_rgb()
    {
        // Given inverted (Adobe) CMYK samples C'=200 M'=100 Y'=50 K'=255 (no black) and K'=128 (half black);
        // RGB = C' * K' / 255, as PIL and Skia both convert
        byte[] noBlack = TestImages.CmykJpeg(200, 100, 50, 255);
        byte[] halfBlack = TestImages.CmykJpeg(200, 100, 50, 128);

        RgbImage a = ImageDecoder.Decode(noBlack, "cmyk.jpg");
        RgbImage b = ImageDecoder.Decode(halfBlack, "cmyk2.jpg");

        Assert.Equal((8, 8), (a.Width, a.Height));
        Assert.Equal(((byte)200, (byte)100, (byte)50), a[3, 3], new NearColour(2));
        Assert.Equal(((byte)100, (byte)50, (byte)25), b[3, 3], new NearColour(2));
    }

    [Fact]
    public void Alpha_is_dropped_keeping_unpremultiplied_colours_like_pil_convert_rgb()
    {
        // Given RGBA pixels, one fully transparent and one half transparent
        byte[] png = TestImages.Png(2, 1, colourType: 6, bitDepth: 8, [[200, 100, 50, 0, 90, 60, 30, 128]]);

        Assert.Equal(new byte[] { 200, 100, 50, 90, 60, 30 }, ImageDecoder.Decode(png, "alpha.png").Pixels);
    }

    [Theory]
    [InlineData(1, 3, 2, new byte[] { 0, 1, 2, 3, 4, 5 })]  // TopLeft: as stored
    [InlineData(2, 3, 2, new byte[] { 2, 1, 0, 5, 4, 3 })]  // mirrored
    [InlineData(3, 3, 2, new byte[] { 5, 4, 3, 2, 1, 0 })]  // rotated 180
    [InlineData(4, 3, 2, new byte[] { 3, 4, 5, 0, 1, 2 })]  // flipped vertically
    [InlineData(5, 2, 3, new byte[] { 0, 3, 1, 4, 2, 5 })]  // transposed
    [InlineData(6, 2, 3, new byte[] { 3, 0, 4, 1, 5, 2 })]  // rotate 90 clockwise to display
    [InlineData(7, 2, 3, new byte[] { 5, 2, 4, 1, 3, 0 })]  // transverse
    [InlineData(8, 2, 3, new byte[] { 2, 5, 1, 4, 0, 3 })]  // rotate 90 counter-clockwise to display
    public void Exif_orientation_is_applied_for_all_eight_values(ushort orientation, int width, int height, byte[] labels)
    {
        // Given a 3x2 stored image whose pixels carry labels 0..5 (row-major) as distinct flat 8x8 blocks,
        // encoded as JPEG with the EXIF orientation tag
        var stored = new RgbImage(24, 16);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 24; x++)
            {
                byte v = (byte)(20 + 40 * ((y / 8) * 3 + x / 8));
                stored[x, y] = (v, v, v);
            }
        byte[] jpeg = TestImages.WithExifOrientation(ImageEncoder.EncodeJpeg(stored, 100), orientation);

        // When decoded
        RgbImage decoded = ImageDecoder.Decode(jpeg, "exif.jpg");

        // Then it is upright: block (bx, by) shows the expected label
        Assert.Equal((width * 8, height * 8), (decoded.Width, decoded.Height));
        for (int by = 0; by < height; by++)
            for (int bx = 0; bx < width; bx++)
            {
                int expected = 20 + 40 * labels[by * width + bx];
                Assert.InRange(decoded[bx * 8 + 4, by * 8 + 4].R, expected - 6, expected + 6);
            }
    }

    [Fact]
    public void Empty_file_is_reported()
    {
        string path = TempFile("empty.jpg");
        File.WriteAllBytes(path, []);
        try
        {
            var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
            Assert.Equal("empty file (0 bytes)", e.Reason);
            Assert.Equal(path, e.Path);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Missing_file_is_reported()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(TempFile("nope.png")));
        Assert.Equal("file not found", e.Reason);
    }

    [Fact]
    public void A_directory_is_reported_as_not_a_file()
    {
        string dir = TempFile("folder.png");
        Directory.CreateDirectory(dir);
        try
        {
            var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(dir));
            Assert.Equal("is a directory, not an image file", e.Reason);
        }
        finally { Directory.Delete(dir); }
    }

    [Fact]
    public void A_cut_header_of_a_known_format_is_corrupt_not_unrecognised()
    {
        byte[] png = ImageEncoder.EncodePng(TestImages.Gradient(4, 4));

        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png[..12], "head.png"));

        Assert.StartsWith("truncated or corrupt image data", e.Reason);
    }

    [Fact]
    public void Text_is_not_an_image()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode("hello, world\n"u8.ToArray(), "notes.jpg"));
        Assert.Equal("not an image (unrecognised format)", e.Reason);
        Assert.Equal("notes.jpg: not an image (unrecognised format)", e.Message);
    }

    [Theory]
    [InlineData("jpg")]
    [InlineData("png")]
    public void Truncated_file_is_an_error_not_a_partial_image(string format)
    {
        RgbImage image = TestImages.Gradient(24, 24);
        new Random(2).NextBytes(image.Pixels); // noise: the data is spread over the whole file
        byte[] full = format == "jpg" ? ImageEncoder.EncodeJpeg(image, 90) : ImageEncoder.EncodePng(image);
        byte[] cut = full[..(full.Length / 2)];

        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(cut, "cut." + format));

        Assert.StartsWith("truncated or corrupt image data", e.Reason);
    }

    [Fact]
    public void Pixel_limit_is_checked_from_the_header_before_decoding()
    {
        // Given a PNG header claiming 100000x100000 with almost no data (decoding would need 40 GB)
        byte[] bomb = TestImages.Png(100000, 100000, colourType: 2, bitDepth: 8, [new byte[30]]);

        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bomb, "bomb.png"));

        Assert.Equal("image is 100000x100000 = 10000000000 pixels, above the limit of 89478485 (DecodeOptions.MaxPixels)", e.Reason);
    }

    [Fact]
    public void Pixel_limit_is_configurable()
    {
        byte[] png = ImageEncoder.EncodePng(TestImages.Gradient(10, 10));

        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(png, "a.png", new DecodeOptions { MaxPixels = 99 }));
        Assert.Equal(10, ImageDecoder.Decode(png, "a.png", new DecodeOptions { MaxPixels = 100 }).Width);
    }

    [Fact]
    public void Target_size_hint_decodes_a_big_jpeg_at_a_reduced_scale_never_below_the_target()
    {
        byte[] jpeg = ImageEncoder.EncodeJpeg(TestImages.Gradient(64, 48), 90);

        RgbImage quarter = ImageDecoder.Decode(jpeg, "a.jpg", new DecodeOptions { TargetSize = (16, 12) });
        RgbImage half = ImageDecoder.Decode(jpeg, "a.jpg", new DecodeOptions { TargetSize = (17, 12) });
        RgbImage full = ImageDecoder.Decode(jpeg, "a.jpg", new DecodeOptions { TargetSize = (40, 30) });
        RgbImage again = ImageDecoder.Decode(jpeg, "a.jpg", new DecodeOptions { TargetSize = (16, 12) });

        Assert.Equal((16, 12), (quarter.Width, quarter.Height));
        Assert.Equal((32, 24), (half.Width, half.Height));
        Assert.Equal((64, 48), (full.Width, full.Height));
        Assert.Equal(quarter.Pixels, again.Pixels); // deterministic
    }

    [Fact]
    public void Decoding_on_many_threads_gives_identical_results()
    {
        RgbImage image = TestImages.Gradient(40, 30);
        byte[] jpeg = ImageEncoder.EncodeJpeg(image, 85);
        byte[] reference = ImageDecoder.Decode(jpeg, "a.jpg").Pixels;

        var results = new byte[64][];
        Parallel.For(0, results.Length, i => results[i] = ImageDecoder.Decode(jpeg, "a.jpg").Pixels);

        Assert.All(results, r => Assert.Equal(reference, r));
    }

    private sealed class NearColour(int tolerance) : IEqualityComparer<(byte R, byte G, byte B)>
    {
        public bool Equals((byte R, byte G, byte B) a, (byte R, byte G, byte B) b) =>
            Math.Abs(a.R - b.R) <= tolerance && Math.Abs(a.G - b.G) <= tolerance && Math.Abs(a.B - b.B) <= tolerance;

        public int GetHashCode((byte R, byte G, byte B) obj) => 0;
    }
}
