using SharpVision.Augmentation;
using SharpVision.Imaging;

namespace SharpVision.Tests.Augmentation;

public class AugmenterTests
{
    /// <summary>A 4x1 grey strip a b c d = 10 20 30 40, the 1-D case of scipy's mode pictures.</summary>
    private static RgbImage Strip()
    {
        var image = new RgbImage(4, 1);
        for (int c = 0; c < 4; c++) image[c, 0] = ((byte)(10 * (c + 1)), (byte)(10 * (c + 1)), (byte)(10 * (c + 1)));
        return image;
    }

    private static byte[] Row(RgbImage image) => Enumerable.Range(0, image.Width).Select(c => image[c, 0].R).ToArray();

    [Theory]
    [InlineData(FillMode.Nearest, 2.0, new byte[] { 30, 40, 40, 40 })]
    [InlineData(FillMode.Constant, 2.0, new byte[] { 30, 40, 7, 7 })]
    [InlineData(FillMode.Reflect, 2.0, new byte[] { 30, 40, 40, 30 })]
    [InlineData(FillMode.Wrap, 2.0, new byte[] { 30, 40, 10, 20 })]
    [InlineData(FillMode.Nearest, -3.0, new byte[] { 10, 10, 10, 10 })]
    [InlineData(FillMode.Constant, -3.0, new byte[] { 7, 7, 7, 10 })]
    [InlineData(FillMode.Reflect, -3.0, new byte[] { 30, 20, 10, 10 })]
    [InlineData(FillMode.Wrap, -3.0, new byte[] { 20, 30, 40, 10 })]
    public void Fill_mode_extends_the_strip_like_scipy(FillMode mode, double ty, byte[] expected)
    {
        // Given a b c d and a column shift that reads past an edge (output col c reads input col c + ty)
        var augmenter = new Augmenter(new AugmentOptions { FillMode = mode, Cval = 7 });

        // When shifted
        RgbImage output = augmenter.Apply(Strip(), new TransformParams(Ty: ty));

        // Then the outside is filled as nearest (aaaa|abcd|dddd), constant, reflect (dcba|abcd|dcba), wrap (abcd|abcd|abcd)
        Assert.Equal(expected, Row(output));
    }

    [Fact]
    public void Brightness_multiplies_truncates_and_clips_like_pil()
    {
        // Given pixels 0, 101, 200 and PIL's Brightness(1.5) and (0.5)
        var image = new RgbImage(3, 1, [0, 101, 200, 0, 101, 200, 0, 101, 200]);
        var augmenter = new Augmenter(new AugmentOptions());

        RgbImage brighter = augmenter.Apply(image, new TransformParams(Brightness: 1.5));
        RgbImage darker = augmenter.Apply(image, new TransformParams(Brightness: 0.5));

        Assert.Equal(new byte[] { 0, 151, 255, 0, 151, 255, 0, 151, 255 }, brighter.Pixels); // 151.5 -> 151, 300 -> 255
        Assert.Equal(new byte[] { 0, 50, 100, 0, 50, 100, 0, 50, 100 }, darker.Pixels);       // 50.5 -> 50
        Assert.Equal(new byte[] { 0, 101, 200, 0, 101, 200, 0, 101, 200 }, image.Pixels);      // input untouched
    }

    [Fact]
    public void Identity_options_return_an_equal_image_and_not_the_same_instance()
    {
        var image = new RgbImage(5, 3);
        new Random(1).NextBytes(image.Pixels);
        var augmenter = new Augmenter(AugmentOptions.Parse("fill_mode=reflect,rescale=1/255"));
        Assert.True(augmenter.Options.IsIdentity);

        RgbImage output = augmenter.Apply(image, new Random(5));

        Assert.Equal(image.Pixels, output.Pixels);
        Assert.NotSame(image, output);
    }

    [Fact]
    public void Same_seed_gives_identical_outputs_and_a_different_seed_differs()
    {
        var image = new RgbImage(32, 24);
        new Random(3).NextBytes(image.Pixels);
        var augmenter = new Augmenter(AugmentOptions.Parse(
            "rotation_range=40,width_shift_range=0.2,height_shift_range=0.2,shear_range=10,zoom_range=0.2,horizontal_flip=true,brightness_range=0.8:1.2"));

        RgbImage a = augmenter.Apply(image, new Random(42));
        RgbImage b = augmenter.Apply(image, new Random(42));
        RgbImage c = augmenter.Apply(image, new Random(43));

        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Pixels, c.Pixels);
    }

    [Fact]
    public void Draw_follows_keras_ranges_and_scales_fractional_shifts_by_the_size()
    {
        // Given fractional shifts on a 200 (w) x 100 (h) image and pixel shifts (>= 1) on another augmenter
        var fractional = new Augmenter(AugmentOptions.Parse(
            "rotation_range=30,width_shift_range=0.1,height_shift_range=0.2,shear_range=5,zoom_range=0.8:1.25,brightness_range=0.5:0.6"));
        var pixels = new Augmenter(AugmentOptions.Parse("width_shift_range=3,height_shift_range=4"));
        var rng = new Random(7);
        var all = Enumerable.Range(0, 2000).Select(_ => fractional.Draw(rng, 200, 100)).ToList();
        var px = Enumerable.Range(0, 2000).Select(_ => pixels.Draw(rng, 200, 100)).ToList();

        // Then each parameter stays in its Keras range and spreads over it
        Assert.All(all, p =>
        {
            Assert.InRange(p.Theta, -30, 30);
            Assert.InRange(p.Tx, -20, 20);   // height_shift * height (rows)
            Assert.InRange(p.Ty, -20, 20);   // width_shift * width (columns)
            Assert.InRange(p.Shear, -5, 5);
            Assert.InRange(p.Zx, 0.8, 1.25);
            Assert.InRange(p.Zy, 0.8, 1.25);
            Assert.InRange(p.Brightness, 0.5, 0.6);
            Assert.False(p.FlipHorizontal || p.FlipVertical);
        });
        Assert.True(all.Max(p => p.Tx) > 18 && all.Min(p => p.Tx) < -18);
        Assert.True(all.Max(p => p.Theta) > 28 && all.Min(p => p.Theta) < -28);
        Assert.Contains(all, p => p.Zx != p.Zy); // drawn independently
        Assert.All(px, p => { Assert.InRange(p.Tx, -4, 4); Assert.InRange(p.Ty, -3, 3); });
        Assert.True(px.Max(p => p.Tx) > 3.5);
    }

    [Fact]
    public void Flips_happen_about_half_the_time()
    {
        var augmenter = new Augmenter(AugmentOptions.Parse("horizontal_flip=true,vertical_flip=true"));
        var rng = new Random(11);
        var draws = Enumerable.Range(0, 4000).Select(_ => augmenter.Draw(rng, 10, 10)).ToList();

        Assert.InRange(draws.Count(p => p.FlipHorizontal), 1800, 2200);
        Assert.InRange(draws.Count(p => p.FlipVertical), 1800, 2200);
    }

    [Fact]
    public void Uniform_image_stays_uniform_under_any_transform_with_nearest_fill()
    {
        var image = new RgbImage(20, 15);
        Array.Fill(image.Pixels, (byte)77);
        var augmenter = new Augmenter(AugmentOptions.Parse("rotation_range=45,zoom_range=0.3,shear_range=20,width_shift_range=0.3"));

        RgbImage output = augmenter.Apply(image, new Random(9));

        Assert.All(output.Pixels, v => Assert.Equal(77, v));
    }
}
