using SharpVision.Augmentation;
using SharpVision.Imaging;

namespace SharpVision.Tests.Augmentation;

/// <summary>
/// The loader's training path warps a decoded image (any size) straight to the network's input size, the resize
/// folded into the augmentation's one affine warp. It must show what resizing first and then augmenting shows.
/// </summary>
public class AugmenterResizeFoldTests
{
    private const string Spec = "rotation_range=40,width_shift_range=0.2,height_shift_range=0.2,shear_range=0.2,zoom_range=0.2,horizontal_flip=true";

    /// <summary>A smooth photo-like test card: gradients and a soft disc, so bilinear resampling orders do not matter much.</summary>
    private static RgbImage Card(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double u = (double)x / width, v = (double)y / height;
                double disc = Math.Exp(-(Math.Pow(u - 0.6, 2) + Math.Pow(v - 0.4, 2)) * 12);
                image[x, y] = ((byte)(255 * u), (byte)(255 * v), (byte)(255 * disc));
            }
        return image;
    }

    [Theory]
    [InlineData(250, 188, 150, 150)]   // a 500x375 JPEG decoded at 1/2: shrink, aspect squashed as the resize does
    [InlineData(150, 150, 150, 150)]   // already the input size
    [InlineData(100, 120, 150, 150)]   // a small image: enlarge
    public void Folded_warp_matches_resize_then_augment(int srcW, int srcH, int outW, int outH)
    {
        var augmenter = new Augmenter(AugmentOptions.Parse(Spec));
        var source = Card(srcW, srcH);
        double worst = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var folded = augmenter.Apply(source, new Random(seed), outW, outH);
            var twoPasses = augmenter.Apply(Resizer.Resize(source, outW, outH, Interpolation.Bilinear), new Random(seed));

            Assert.Equal((outW, outH), (folded.Width, folded.Height));
            double mean = folded.Pixels.Zip(twoPasses.Pixels, (a, b) => Math.Abs(a - b)).Average();
            worst = Math.Max(worst, mean);
        }
        // Same parameters, same matrix; only one rounding to bytes and the edge taps differ.
        Assert.True(worst < 1.5, $"mean absolute difference {worst:F2} levels");
    }

    [Fact]
    public void A_horizontal_flip_alone_mirrors_the_downscaled_image()
    {
        var augmenter = new Augmenter(AugmentOptions.Parse("horizontal_flip=true"));
        var source = Card(64, 48);
        var resized = Resizer.Resize(source, 32, 24, Interpolation.Bilinear);
        int flipped = 0;
        for (int seed = 0; seed < 8; seed++)
        {
            var folded = augmenter.Apply(source, new Random(seed), 32, 24);
            bool mirrored = folded[0, 5] == resized[31, 5];
            if (mirrored) flipped++;
            for (int y = 0; y < 24; y++)
                for (int x = 0; x < 32; x++)
                    Assert.Equal(resized[mirrored ? 31 - x : x, y], folded[x, y]); // exact: a 2:1 shrink samples pixel pairs alike
        }
        Assert.InRange(flipped, 1, 7);
    }
}
