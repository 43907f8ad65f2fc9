using SharpVision.Augmentation;
using SharpVision.Data.Detection;
using SharpVision.Imaging;
using Xunit;

namespace SharpVision.Tests.Data.Detection;

public class DetectionLoaderTests
{
    // A black image with one white rectangle covering pixels [x1, x2) x [y1, y2).
    private static RgbImage Marked(int w, int h, int x1, int y1, int x2, int y2)
    {
        var img = new RgbImage(w, h);
        for (int y = y1; y < y2; y++)
            for (int x = x1; x < x2; x++)
                for (int k = 0; k < 3; k++) img.Pixels[(y * w + x) * 3 + k] = 255;
        return img;
    }

    // Bounds (continuous) of the pixels brighter than the border grey.
    private static (int X1, int Y1, int X2, int Y2) WhiteBounds(RgbImage img)
    {
        int x1 = int.MaxValue, y1 = int.MaxValue, x2 = -1, y2 = -1;
        for (int y = 0; y < img.Height; y++)
            for (int x = 0; x < img.Width; x++)
                if (img.Pixels[(y * img.Width + x) * 3] > 191)
                {
                    x1 = Math.Min(x1, x); y1 = Math.Min(y1, y); x2 = Math.Max(x2, x + 1); y2 = Math.Max(y2, y + 1);
                }
        return (x1, y1, x2, y2);
    }

    [Fact]
    public void Flip_and_scale_move_the_box_exactly_with_the_image()
    {
        // Given a 100x60 image with a white box at [10, 30) x [20, 40).
        var image = Marked(100, 60, 10, 20, 30, 40);
        var box = new BoxLabel(10, 20, 30, 40, 1);
        // When it is scaled by 2 (x) and 1.5 (y), shifted by (6, 9) and flipped into a 256 input.
        var t = new LetterboxTransform(256, 2f, 1.5f, 6, 9, Flipped: true);
        var warped = BoxAugment.Warp(image, t);
        var (boxes, dropped) = BoxAugment.MoveBoxes([box], t);
        // Then the box is at x: 256 - (2*30+6) .. 256 - (2*10+6), y: 1.5*20+9 .. 1.5*40+9, and the white pixels are there too.
        Assert.Equal(0, dropped);
        var b = Assert.Single(boxes);
        Assert.Equal((190f, 39f, 230f, 69f), (b.X1, b.Y1, b.X2, b.Y2));
        var white = WhiteBounds(warped);
        Assert.InRange(white.X1, 189, 191);
        Assert.InRange(white.X2, 229, 231);
        Assert.InRange(white.Y1, 38, 40);
        Assert.InRange(white.Y2, 68, 70);
        Assert.Equal(1, b.ClassId);
    }

    [Fact]
    public void Centred_letterbox_fills_the_long_side_with_grey_bars()
    {
        var image = Marked(100, 50, 0, 0, 100, 50);
        var r = BoxAugment.Apply(image, [new BoxLabel(0, 0, 100, 50, 0)], 64);
        // 100x50 -> 64x32 centred: rows 16..48 white, grey (128) above and below.
        Assert.Equal(BoxAugment.Border, r.Image.Pixels[(5 * 64 + 10) * 3]);
        Assert.Equal(255, r.Image.Pixels[(30 * 64 + 10) * 3]);
        var b = Assert.Single(r.Boxes);
        Assert.Equal((0f, 16f, 64f, 48f), (b.X1, b.Y1, b.X2, b.Y2));
    }

    [Fact]
    public void Boxes_are_clipped_and_those_under_a_pixel_are_dropped_and_counted()
    {
        var t = new LetterboxTransform(100, 1, 1, -20, 0, false);
        var (boxes, dropped) = BoxAugment.MoveBoxes(
        [
            new BoxLabel(10, 10, 50, 50, 0),   // -> [-10, 30): clipped to [0, 30)
            new BoxLabel(0, 10, 20.5f, 50, 1), // -> [-20, 0.5): half a pixel left, dropped
            new BoxLabel(0, 10, 10, 50, 2),    // -> entirely outside, dropped
        ], t);
        Assert.Equal(2, dropped);
        var b = Assert.Single(boxes);
        Assert.Equal((0f, 10f, 30f, 50f), (b.X1, b.Y1, b.X2, b.Y2));
    }

    [Fact]
    public void Neutral_hsv_jitter_leaves_pixels_unchanged_and_hue_half_turn_swaps_red_for_cyan()
    {
        var img = new RgbImage(2, 1, [200, 40, 40, 10, 120, 250]);
        var copy = img.Clone();
        BoxAugment.JitterHsv(copy, 0, 1, 1);
        Assert.Equal(img.Pixels, copy.Pixels);
        var red = new RgbImage(1, 1, [255, 0, 0]);
        BoxAugment.JitterHsv(red, .5, 1, 1);
        Assert.Equal(new byte[] { 0, 255, 255 }, red.Pixels);
    }

    [Fact]
    public void Detection_batches_carry_their_plan_and_option_errors_name_detection_options()
    {
        // Given a shuffled detection loader
        using var dir = new TempDir();
        var shapes = ShapesDataset.Generate(dir.Path, 7, seed: 4, size: 64, valFraction: 0);
        var data = AnnotationLines.Read(shapes.TrainFile, ShapesDataset.Classes);
        var loader = new DetectionLoader(data, 32, new DetectionLoaderOptions { BatchSize = 3, Seed = 2, Workers = 2 });

        // When an epoch is read, then its batches hold the planned samples in the planned order
        var indices = new List<int[]>();
        foreach (var batch in loader.Epoch(2))
            using (batch) indices.Add([.. batch.Indices]);
        Assert.Equal(loader.Plan(2), indices);
        Assert.Equal(0, loader.ActiveWorkers);

        // And a bad option names the detection option record
        var e = Assert.Throws<InvalidOptionException>(() => new DetectionLoader(data, 32, new DetectionLoaderOptions { BatchSize = 0 }));
        Assert.Equal("DetectionLoaderOptions.BatchSize", e.Option);
    }

    [Fact]
    public void Same_seed_gives_same_batches_whatever_the_workers_and_boxes_follow_the_letterbox()
    {
        using var dir = new TempDir();
        var shapes = ShapesDataset.Generate(dir.Path, 6, seed: 3, size: 96, valFraction: 0);
        var data = AnnotationLines.Read(shapes.TrainFile, ShapesDataset.Classes);
        var augment = new BoxAugmentOptions { MinScale = .5, MaxScale = 1.5 };
        var a = new DetectionLoader(data, 64, new DetectionLoaderOptions { BatchSize = 4, Seed = 5, Workers = 0, Augment = augment });
        var b = new DetectionLoader(data, 64, new DetectionLoaderOptions { BatchSize = 4, Seed = 5, Workers = 3, Augment = augment });
        var c = new DetectionLoader(data, 64, new DetectionLoaderOptions { BatchSize = 4, Seed = 6, Workers = 0, Augment = augment });
        var ba = a.Epoch(1).ToList();
        var bb = b.Epoch(1).ToList();
        var bc = c.Epoch(1).ToList();
        Assert.Equal(2, ba.Count);
        Assert.Equal(new long[] { 4, 3, 64, 64 }, ba[0].Images.shape);
        Assert.Equal(5, ba[0].Labels.shape[2]);
        for (int i = 0; i < ba.Count; i++)
        {
            Assert.True(ba[i].Images.eq(bb[i].Images).all().item<bool>());
            Assert.True(ba[i].Labels.eq(bb[i].Labels).all().item<bool>());
        }
        Assert.False(ba[0].Images.eq(bc[0].Images).all().item<bool>());

        // Without augmentation, a 96 px image is scaled by 2/3 exactly.
        var plain = new DetectionLoader(data, 64, new DetectionLoaderOptions { BatchSize = 6, Shuffle = false, Workers = 0 });
        using var batch = plain.Epoch(0).Single();
        var first = data.Samples[0].Boxes[0];
        var labels = batch.Labels.data<float>().ToArray();
        Assert.Equal(first.X1 * 2 / 3f, labels[0], 3);
        Assert.Equal(first.Y2 * 2 / 3f, labels[3], 3);
        Assert.Equal(first.ClassId, (int)labels[4]);
        foreach (var x in ba.Concat(bb).Concat(bc)) x.Dispose();
    }
}
