using SharpVision.Augmentation;
using SharpVision.Data.Detection;
using SharpVision.Imaging;

namespace SharpVision.Tests.Data.Detection;

public sealed class MosaicTests
{
    private static readonly (byte R, byte G, byte B)[] Colours = [(220, 30, 30), (30, 220, 30), (30, 30, 220), (220, 220, 30)];

    // Image k: grey 60 with one box of colour k; sizes and aspects differ.
    private static (RgbImage, IReadOnlyList<BoxLabel>) Part(int k)
    {
        int w = 80 + 30 * k, h = 120 - 15 * k;
        var image = new RgbImage(w, h);
        Array.Fill(image.Pixels, (byte)60);
        var box = new BoxLabel(w * .25f, h * .3f, w * .75f, h * .8f, k);
        for (int y = (int)box.Y1; y < (int)box.Y2; y++)
            for (int x = (int)box.X1; x < (int)box.X2; x++)
                (image.Pixels[(y * w + x) * 3], image.Pixels[(y * w + x) * 3 + 1], image.Pixels[(y * w + x) * 3 + 2]) = Colours[k];
        return (image, [box]);
    }

    [Fact]
    public void Mosaic_shows_each_image_in_its_own_quadrant_with_its_boxes_on_its_pixels()
    {
        // Given four images with one coloured box each, no flip and no HSV
        var options = new BoxAugmentOptions { Flip = false, Hue = 0, Saturation = 1, Value = 1, Mosaic = 1 };
        var parts = Enumerable.Range(0, 4).Select(Part).ToList();
        for (int seed = 0; seed < 20; seed++)
        {
            // When a 128 px mosaic is made
            var m = BoxAugment.Mosaic(parts, 128, options, new Random(seed));

            // Then each image's box is kept (clipped to its quadrant) or counted as dropped, at most once, inside the
            // input, and each kept box's centre has its image's colour
            Assert.Equal(128, m.Image.Width);
            Assert.True(m.Boxes.Count + m.Dropped <= 4);
            Assert.True(m.Boxes.Count >= 1, $"seed {seed}: no box kept");
            Assert.Equal(m.Boxes.Count, m.Boxes.Select(b => b.ClassId).Distinct().Count());
            foreach (var b in m.Boxes)
            {
                Assert.InRange(b.X1, 0, 128);
                Assert.InRange(b.X2, 0, 128);
                Assert.InRange(b.Y1, 0, 128);
                Assert.InRange(b.Y2, 0, 128);
                var (r, g, bl) = m.Image[(int)((b.X1 + b.X2) / 2), (int)((b.Y1 + b.Y2) / 2)];
                var want = Colours[b.ClassId];
                Assert.True(Math.Abs(r - want.R) + Math.Abs(g - want.G) + Math.Abs(bl - want.B) < 30, $"seed {seed} class {b.ClassId}: ({r},{g},{bl})");
            }
            // and no two boxes overlap (each image stays in its quadrant)
            for (int i = 0; i < m.Boxes.Count; i++)
                for (int j = i + 1; j < m.Boxes.Count; j++)
                {
                    var (a, c) = (m.Boxes[i], m.Boxes[j]);
                    Assert.False(a.X1 < c.X2 - .5f && c.X1 < a.X2 - .5f && a.Y1 < c.Y2 - .5f && c.Y1 < a.Y2 - .5f, $"seed {seed}: boxes {i} and {j} overlap");
                }
        }
    }

    [Fact]
    public void Mosaic_flip_mirrors_pixels_and_boxes_together_and_a_seed_repeats_it()
    {
        var options = new BoxAugmentOptions { Flip = true, Hue = 0, Saturation = 1, Value = 1, Mosaic = 1 };
        var parts = Enumerable.Range(0, 4).Select(Part).ToList();
        int flipped = 0;
        for (int seed = 0; seed < 12; seed++)
        {
            var a = BoxAugment.Mosaic(parts, 96, options, new Random(seed));
            var again = BoxAugment.Mosaic(parts, 96, options, new Random(seed));
            Assert.Equal(a.Image.Pixels, again.Image.Pixels);
            Assert.Equal(a.Boxes, again.Boxes);
            var plain = BoxAugment.Mosaic(parts, 96, options with { Flip = false }, new Random(seed));
            if (!a.Image.Pixels.AsSpan().SequenceEqual(plain.Image.Pixels)) flipped++;
            foreach (var b in a.Boxes)
            {
                var (r, g, bl) = a.Image[(int)((b.X1 + b.X2) / 2), (int)((b.Y1 + b.Y2) / 2)];
                var want = Colours[b.ClassId];
                Assert.True(Math.Abs(r - want.R) + Math.Abs(g - want.G) + Math.Abs(bl - want.B) < 30, $"seed {seed} class {b.ClassId}");
            }
        }
        Assert.InRange(flipped, 2, 10);
    }

    [Fact]
    public void A_loader_with_mosaic_probability_one_gives_batches_with_boxes_from_several_images()
    {
        // Given a shapes set and a loader whose every training sample is a mosaic
        using var dir = new TempDir();
        var shapes = ShapesDataset.Generate(Path.Combine(dir.Path, "s"), 12, seed: 3, size: 64, valFraction: 0);
        var data = DetectionData.Open(shapes.TrainFile, null, shapes.ClassesFile);
        var loader = new DetectionLoader(data, 64, new DetectionLoaderOptions { BatchSize = 4, Workers = 0, Augment = new BoxAugmentOptions { Mosaic = 1 } });

        // When one epoch is drawn
        int boxes = 0, images = 0;
        foreach (var batch in loader.Epoch(0))
            using (batch)
            {
                var labels = batch.Labels.data<float>().ToArray();
                boxes += Enumerable.Range(0, labels.Length / 5).Count(i => labels[i * 5 + 4] >= 0);
                images += (int)batch.Images.shape[0];
            }

        // Then it has more boxes per input than plain images (parts of four images in each; shapes images hold 1-4 boxes)
        double perImage = data.Samples.Average(s => s.Boxes.Count);
        Assert.Equal(12, images);
        Assert.True(boxes > 1.3 * perImage * images, $"{boxes} boxes in {images} mosaics; {perImage:0.0} per plain image");
    }

    [Fact]
    public void A_mosaic_of_shapes_images_draws_every_box_on_its_shape_and_is_saved_to_look_at()
    {
        // Given four shapes images (real decoded JPEGs with their annotation boxes)
        using var dir = new TempDir();
        var shapes = ShapesDataset.Generate(Path.Combine(dir.Path, "s"), 4, seed: 8, size: 128, valFraction: 0);
        var data = DetectionData.Open(shapes.TrainFile, null, shapes.ClassesFile);
        var parts = data.Samples.Select(s => (ImageDecoder.Decode(s.ImagePath), (IReadOnlyList<BoxLabel>)s.Boxes)).ToList();

        // When they make a 256 px mosaic with the default augmentation
        var m = BoxAugment.Mosaic(parts, 256, new BoxAugmentOptions { Mosaic = 1 }, new Random(4));

        // Then boxes from several of the four images are there, no more than they had
        Assert.True(m.Boxes.Count + m.Dropped <= data.Samples.Sum(s => s.Boxes.Count));
        Assert.True(m.Boxes.Count >= 3, $"{m.Boxes.Count} boxes kept");
        // and the drawn mosaic is kept for a person to look at (TestResults/mosaic/mosaic.png)
        var drawn = SharpVision.Evaluation.Detection.DetectionWriter.Draw(m.Image,
            m.Boxes.Select(b => new SharpVision.Models.DetectedObject(b.ClassId, data.Classes[b.ClassId], 1, b.X1, b.Y1, b.X2, b.Y2)).ToList());
        ImageEncoder.SavePng(drawn, OutputPath("mosaic.png"));
    }

    private static string OutputPath(string name)
    {
        string? project = null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "SharpVision.Tests.csproj"))) { project = d.FullName; break; }
        string folder = Path.Combine(project ?? AppContext.BaseDirectory, "TestResults", "mosaic");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}
