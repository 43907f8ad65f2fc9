using SharpVision.Imaging;

namespace SharpVision.Tests.Imaging;

public class ResizerTests
{
    public static TheoryData<Interpolation, int, int> AllModesAndSizes()
    {
        var data = new TheoryData<Interpolation, int, int>();
        foreach (Interpolation mode in Enum.GetValues<Interpolation>())
        {
            data.Add(mode, 5, 3);    // shrink
            data.Add(mode, 31, 17);  // grow
            data.Add(mode, 4, 20);   // shrink one axis, grow the other
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(AllModesAndSizes))]
    public void Uniform_image_stays_uniform_at_the_requested_size(Interpolation mode, int width, int height)
    {
        var image = new RgbImage(13, 9);
        for (int i = 0; i < image.Pixels.Length; i += 3) (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]) = (17, 128, 254);

        RgbImage resized = Resizer.Resize(image, width, height, mode);

        Assert.Equal((width, height), (resized.Width, resized.Height));
        for (int i = 0; i < resized.Pixels.Length; i += 3)
            Assert.Equal(((byte)17, (byte)128, (byte)254), (resized.Pixels[i], resized.Pixels[i + 1], resized.Pixels[i + 2]));
    }

    [Fact]
    public void Nearest_2x2_to_4x4_replicates_each_pixel_into_a_2x2_block()
    {
        var image = new RgbImage(2, 2, [10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40]);

        RgbImage resized = Resizer.Resize(image, 4, 4, Interpolation.Nearest);

        byte[] reds = Enumerable.Range(0, 16).Select(i => resized.Pixels[i * 3]).ToArray();
        Assert.Equal(new byte[] { 10, 10, 20, 20, 10, 10, 20, 20, 30, 30, 40, 40, 30, 30, 40, 40 }, reds);
    }

    [Fact]
    public void Area_4x4_to_2x2_averages_each_2x2_block_exactly()
    {
        // Given four 2x2 blocks with averages 15, 50, 101 and 200
        byte[] reds =
        [
            10, 20, 40, 60,
            10, 20, 50, 50,
            100, 102, 200, 210,
            101, 101, 190, 200,
        ];
        var image = new RgbImage(4, 4, reds.SelectMany(r => new[] { r, r, (byte)(255 - r) }).ToArray());

        RgbImage resized = Resizer.Resize(image, 2, 2, Interpolation.Area);

        Assert.Equal(new byte[] { 15, 15, 240, 50, 50, 205, 101, 101, 154, 200, 200, 55 }, resized.Pixels);
    }

    [Fact]
    public void Area_with_a_fractional_ratio_weights_partly_covered_pixels()
    {
        // Given a 3-pixel row 0, 90, 180 shrunk to 2: output 0 covers [0, 1.5) = 0 + half of 90 -> 30 (x 2/3 weights)
        var image = new RgbImage(3, 1, [0, 0, 0, 90, 90, 90, 180, 180, 180]);

        RgbImage resized = Resizer.Resize(image, 2, 1, Interpolation.Area);

        // (0 * 1 + 90 * 0.5) / 1.5 = 30 and (90 * 0.5 + 180 * 1) / 1.5 = 150
        Assert.Equal(new byte[] { 30, 30, 30, 150, 150, 150 }, resized.Pixels);
    }

    [Fact]
    public void Bilinear_doubling_uses_half_pixel_centres()
    {
        // Given a row 0, 100: output x maps to (x + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 (clamped at the edges)
        var image = new RgbImage(2, 1, [0, 0, 0, 100, 100, 100]);

        RgbImage resized = Resizer.Resize(image, 4, 1, Interpolation.Bilinear);

        Assert.Equal(new byte[] { 0, 25, 75, 100 }, Enumerable.Range(0, 4).Select(i => resized.Pixels[i * 3]).ToArray());
    }

    [Fact]
    public void Bicubic_uses_opencv_kernel_with_a_minus_0_75_and_clamps_overshoot()
    {
        var ramp = new RgbImage(8, 1, Enumerable.Range(0, 8).SelectMany(i => Enumerable.Repeat((byte)(i * 30), 3)).ToArray());
        var step = new RgbImage(4, 1, [0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255]);

        RgbImage r = Resizer.Resize(ramp, 16, 1, Interpolation.Bicubic);
        RgbImage s = Resizer.Resize(step, 16, 1, Interpolation.Bicubic);

        // output x = 7 reads source 7.5 / 2 - 0.5 = 3.25; Keys weights (a = -0.75) at distances 1.25, 0.25, 0.75, 1.75
        // are -0.10547, 0.87891, 0.26172, -0.03516, so 60, 90, 120, 150 give 98.91 -> 99 (a = -0.5 would give 97.5)
        Assert.Equal(99, r.Pixels[7 * 3]);
        Assert.All(s.Pixels, v => Assert.InRange(v, (byte)0, (byte)255)); // ringing clipped, no wrap-around
        Assert.Equal(0, s.Pixels[0]);
        Assert.Equal(255, s.Pixels[^1]);
    }

    [Fact]
    public void Same_size_returns_an_equal_copy()
    {
        RgbImage image = TestImages.Gradient(6, 4);

        RgbImage resized = Resizer.Resize(image, 6, 4, Interpolation.Bicubic);

        Assert.Equal(image.Pixels, resized.Pixels);
        Assert.NotSame(image.Pixels, resized.Pixels);
    }

    [Fact]
    public void Non_positive_size_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Resizer.Resize(TestImages.Gradient(3, 3), 0, 5, Interpolation.Area));
    }
}
