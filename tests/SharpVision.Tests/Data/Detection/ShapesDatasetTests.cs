using SharpVision.Data.Detection;
using SharpVision.Imaging;
using SharpVision.Tests.Data;
using SkiaSharp;

namespace SharpVision.Tests.Data.Detection;

public sealed class ShapesDatasetTests
{
    [Fact]
    public void Same_seed_writes_the_same_files_and_a_different_seed_does_not()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        using var c = new TempDir();

        ShapesDataset.Generate(a.Path, 4, seed: 7, size: 96);
        ShapesDataset.Generate(b.Path, 4, seed: 7, size: 96);
        ShapesDataset.Generate(c.Path, 4, seed: 8, size: 96);

        var files = Directory.EnumerateFiles(a.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a.Path, f)).Order().ToList();
        Assert.Equal(files, Directory.EnumerateFiles(b.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(b.Path, f)).Order());
        foreach (string f in files.Where(f => !f.EndsWith(".xml", StringComparison.Ordinal))) // XML holds the absolute path
            Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, f)), File.ReadAllBytes(Path.Combine(b.Path, f)));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a.Path, "JPEGImages", "000001.jpg")), File.ReadAllBytes(Path.Combine(c.Path, "JPEGImages", "000001.jpg")));
    }

    [Fact]
    public void Generated_set_reads_back_identically_as_lines_and_voc_with_integer_boxes_inside_the_image()
    {
        using var dir = new TempDir();

        var result = ShapesDataset.Generate(dir.Path, 10, seed: 1, size: 128, valFraction: 0.2);
        var train = AnnotationLines.Read(result.TrainFile, ClassList.Read(result.ClassesFile));
        var val = AnnotationLines.Read(result.ValFile);
        var voc = DetectionData.Open(dir.Path);

        Assert.Equal((8, 2), (result.TrainImages, result.ValImages));
        Assert.Equal(["circle", "square", "triangle"], File.ReadAllLines(result.ClassesFile));
        Assert.Equal(voc.Samples.Select(s => s.Boxes), train.Samples.Concat(val.Samples).Select(s => s.Boxes));
        Assert.Equal(result.Boxes, voc.BoxCount);
        Assert.All(voc.Samples, s => Assert.InRange(s.Boxes.Count, 1, 5));
        Assert.All(voc.Samples.SelectMany(s => s.Boxes), b =>
        {
            Assert.True(b.IsValid);
            Assert.InRange(b.X1, 0, 128); Assert.InRange(b.X2, 0, 128); Assert.InRange(b.Y1, 0, 128); Assert.InRange(b.Y2, 0, 128);
            Assert.Equal(MathF.Round(b.X1), b.X1);
            Assert.InRange(b.ClassId, 0, 2);
        });
        Assert.Equal(0, DetectionCheck.Run(voc).ProblemCount);
    }

    [Fact]
    public void Boxes_are_tight_the_edge_rows_inside_hold_the_fill_colour_and_the_rows_just_outside_do_not()
    {
        int checkedBoxes = 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var (image, boxes) = ShapesDataset.Draw(new Random(seed), 160);
            // Circles and squares far from any other shape: their centre pixel is the fill colour.
            foreach (var b in boxes.Where(b => b.ClassId != 2 && boxes.All(o => ReferenceEquals(o, b) || !Overlaps(o, b, 3))))
            {
                var fill = image[(int)((b.X1 + b.X2) / 2), (int)((b.Y1 + b.Y2) / 2)];
                int Dist(int x, int y) => Math.Abs(image[x, y].R - fill.R) + Math.Abs(image[x, y].G - fill.G) + Math.Abs(image[x, y].B - fill.B);
                int Row(int y) => Enumerable.Range((int)b.X1, (int)b.Width).Min(x => Dist(x, y));
                int Col(int x) => Enumerable.Range((int)b.Y1, (int)b.Height).Min(y => Dist(x, y));
                // Inside each edge the shape reaches the fill colour (a square fully, a circle at its touching point
                // to within anti-aliasing); one pixel outside, where coverage is exactly 0, it does not get as close.
                if (b.Y1 > 0) Assert.True(Row((int)b.Y1) < Row((int)b.Y1 - 1), $"seed {seed} top of {b}");
                if (b.Y2 < 160) Assert.True(Row((int)b.Y2 - 1) < Row((int)b.Y2), $"seed {seed} bottom of {b}");
                if (b.X1 > 0) Assert.True(Col((int)b.X1) < Col((int)b.X1 - 1), $"seed {seed} left of {b}");
                if (b.X2 < 160) Assert.True(Col((int)b.X2 - 1) < Col((int)b.X2), $"seed {seed} right of {b}");
                checkedBoxes++;
            }
        }
        Assert.True(checkedBoxes > 10, $"only {checkedBoxes} isolated boxes checked");
    }

    private static bool Overlaps(BoxLabel a, BoxLabel b, float margin)
        => a.X1 - margin < b.X2 && b.X1 - margin < a.X2 && a.Y1 - margin < b.Y2 && b.Y1 - margin < a.Y2;

    [Fact]
    public void Preview_with_boxes_drawn_is_written_for_a_human_look()
    {
        // Writes the first images with their boxes outlined (SV_SHAPES_PREVIEW=path keeps the PNG for a look).
        using var dir = new TempDir();
        var result = ShapesDataset.Generate(dir.Path, 6, seed: 0);
        var data = AnnotationLines.Read(result.TrainFile);
        using var sheet = new SKBitmap(3 * 320, 2 * 320);
        using (var canvas = new SKCanvas(sheet))
        {
            using var pen = new SKPaint { Style = SKPaintStyle.Stroke, Color = SKColors.Red, StrokeWidth = 1 };
            for (int i = 0; i < Math.Min(6, data.Samples.Count); i++)
            {
                using var bmp = SkiaConvert.ToBitmap(ImageDecoder.Decode(data.Samples[i].ImagePath));
                float ox = i % 3 * 320, oy = i / 3 * 320;
                using (var img = SKImage.FromBitmap(bmp)) canvas.DrawImage(img, ox, oy, new SKSamplingOptions(SKFilterMode.Nearest));
                foreach (var b in data.Samples[i].Boxes)
                    canvas.DrawRect(ox + b.X1 - 0.5f, oy + b.Y1 - 0.5f, b.Width + 1, b.Height + 1, pen);
            }
        }
        string target = Environment.GetEnvironmentVariable("SV_SHAPES_PREVIEW") ?? Path.Combine(dir.Path, "preview.png");
        ImageEncoder.SavePng(SkiaConvert.FromBitmap(sheet), target);
        Assert.True(new FileInfo(target).Length > 10_000);
    }
}
