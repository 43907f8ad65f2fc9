using SharpVision.Imaging;
using SkiaSharp;

namespace SharpVision.Data.Detection;

/// <summary>What <see cref="ShapesDataset.Generate"/> wrote.</summary>
/// <param name="TrainFile">Annotation lines for the training images (DIR/train.txt).</param>
/// <param name="ValFile">Annotation lines for the validation images (DIR/val.txt; empty when there are none).</param>
/// <param name="ClassesFile">DIR/classes.txt: circle, square, triangle.</param>
/// <param name="TrainImages">Number of training images.</param>
/// <param name="ValImages">Number of validation images.</param>
/// <param name="Boxes">Boxes over all images.</param>
public sealed record ShapesResult(string TrainFile, string ValFile, string ClassesFile, int TrainImages, int ValImages, int Boxes);

/// <summary>
/// A synthetic detection set that needs no download: circles, squares and triangles of random sizes and
/// colours on textured backgrounds (gradient, stripes, noise), one to five per image, sometimes overlapping
/// (each object stays mostly visible). Geometry is on whole pixels so boxes are exact, tight and integer
/// (readable by keras-yolo3 too). Written as a VOC folder (JPEGImages/, Annotations/, ImageSets/Main/) plus
/// train.txt / val.txt annotation lines with relative paths and classes.txt. Same seed, same bytes.
/// </summary>
public static class ShapesDataset
{
    /// <summary>The class names, in id order.</summary>
    public static IReadOnlyList<string> Classes { get; } = ["circle", "square", "triangle"];

    /// <summary>Largest share of an earlier object a later one may cover.</summary>
    private const double MaxCovered = 0.35;

    /// <summary>Writes <paramref name="images"/> images of <paramref name="size"/>² pixels into <paramref name="outDir"/>; the last <paramref name="valFraction"/> of them are the validation split.</summary>
    public static ShapesResult Generate(string outDir, int images, int seed = 0, int size = 320, double valFraction = 0.2)
    {
        if (images < 1) throw new InvalidOptionException("ShapesDataset.Images", "an integer >= 1", images.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (size < 64) throw new InvalidOptionException("ShapesDataset.ImgSize", "an integer >= 64", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (valFraction is < 0 or >= 1) throw new InvalidOptionException("ShapesDataset.ValFraction", "a number from 0 to below 1", valFraction.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string jpeg = Path.Combine(outDir, "JPEGImages");
        Directory.CreateDirectory(jpeg);
        var rng = new Random(seed);
        var samples = new List<DetectionSample>(images);
        for (int i = 0; i < images; i++)
        {
            string path = Path.GetFullPath(Path.Combine(jpeg, $"{i + 1:D6}.jpg"));
            var (image, boxes) = Draw(rng, size);
            ImageEncoder.SaveJpeg(image, path, 92);
            samples.Add(new DetectionSample(path, boxes, size, size));
        }
        var all = new DetectionDataset(samples, Classes, [], DetectionFormat.Voc, outDir);
        VocXml.WriteFolder(all, outDir, copyImages: false);
        int val = (int)Math.Round(images * valFraction);
        var train = all with { Samples = samples.Take(images - val).ToList() };
        var valSet = all with { Samples = samples.Skip(images - val).ToList() };
        string trainFile = Path.Combine(outDir, "train.txt"), valFile = Path.Combine(outDir, "val.txt"), classes = Path.Combine(outDir, "classes.txt");
        AnnotationLines.Write(train, trainFile);
        AnnotationLines.Write(valSet, valFile);
        ClassList.Write(classes, Classes);
        string sets = Path.Combine(outDir, "ImageSets", "Main");
        File.WriteAllText(Path.Combine(sets, "train.txt"), string.Concat(train.Samples.Select(s => Path.GetFileNameWithoutExtension(s.ImagePath) + "\n")));
        File.WriteAllText(Path.Combine(sets, "val.txt"), string.Concat(valSet.Samples.Select(s => Path.GetFileNameWithoutExtension(s.ImagePath) + "\n")));
        return new ShapesResult(trainFile, valFile, classes, images - val, val, all.BoxCount);
    }

    /// <summary>Draws one image (size x size) and returns it with its tight boxes; consumes <paramref name="rng"/> exactly as <see cref="Generate"/> does per image.</summary>
    public static (RgbImage Image, List<BoxLabel> Boxes) Draw(Random rng, int size)
    {
        var image = Background(rng, size);
        using var bitmap = SkiaConvert.ToBitmap(image);
        using var canvas = new SKCanvas(bitmap);
        var boxes = new List<BoxLabel>();
        int count = rng.Next(1, 6);
        double k = size / 320.0;
        int minSide = Math.Max(8, (int)(20 * k)), maxSide = Math.Max(minSide + 1, (int)(120 * k));
        for (int n = 0; n < count; n++)
        {
            int cls = rng.Next(3);
            int side = rng.Next(minSide, maxSide + 1);
            // Triangles get their own aspect; circles and squares are square.
            int w = side, h = cls == 2 ? Math.Max(minSide, (int)(side * (0.7 + 0.3 * rng.NextDouble()))) : side;
            if (cls == 0) { w -= w % 2; h = w; } // even diameter: integer centre and radius
            BoxLabel? box = null;
            for (int attempt = 0; attempt < 50 && box is null; attempt++)
            {
                int x = rng.Next(0, size - w + 1), y = rng.Next(0, size - h + 1);
                var candidate = new BoxLabel(x, y, x + w, y + h, cls);
                if (boxes.All(b => Intersection(b, candidate) <= MaxCovered * b.Area)) box = candidate;
            }
            if (box is null) continue;
            using var paint = new SKPaint { IsAntialias = true, Style = SKPaintStyle.Fill, Color = ShapeColour(rng) };
            switch (cls)
            {
                case 0:
                    canvas.DrawCircle(box.X1 + w / 2f, box.Y1 + h / 2f, w / 2f, paint);
                    break;
                case 1:
                    canvas.DrawRect(box.X1, box.Y1, w, h, paint);
                    break;
                default:
                    using (var path = Triangle(rng, box))
                        canvas.DrawPath(path, paint);
                    break;
            }
            boxes.Add(box);
        }
        canvas.Flush();
        return (SkiaConvert.FromBitmap(bitmap), boxes);
    }

    /// <summary>A triangle touching all four sides of the box: apex on one side, base on the opposite side's corners.</summary>
    private static SKPath Triangle(Random rng, BoxLabel b)
    {
        float apex = (float)rng.NextDouble();
        using var path = new SKPathBuilder();
        switch (rng.Next(4))
        {
            case 0: // apex up
                path.MoveTo(b.X1 + apex * b.Width, b.Y1); path.LineTo(b.X2, b.Y2); path.LineTo(b.X1, b.Y2); break;
            case 1: // apex down
                path.MoveTo(b.X1 + apex * b.Width, b.Y2); path.LineTo(b.X2, b.Y1); path.LineTo(b.X1, b.Y1); break;
            case 2: // apex left
                path.MoveTo(b.X1, b.Y1 + apex * b.Height); path.LineTo(b.X2, b.Y1); path.LineTo(b.X2, b.Y2); break;
            default: // apex right
                path.MoveTo(b.X2, b.Y1 + apex * b.Height); path.LineTo(b.X1, b.Y1); path.LineTo(b.X1, b.Y2); break;
        }
        path.Close();
        return path.Detach();
    }

    private static float Intersection(BoxLabel a, BoxLabel b)
        => Math.Max(0, Math.Min(a.X2, b.X2) - Math.Max(a.X1, b.X1)) * Math.Max(0, Math.Min(a.Y2, b.Y2) - Math.Max(a.Y1, b.Y1));

    /// <summary>A saturated colour from a random hue, so shapes stand out from the greyish backgrounds.</summary>
    private static SKColor ShapeColour(Random rng)
        => SKColor.FromHsv((float)(rng.NextDouble() * 360), 55 + (float)rng.NextDouble() * 45, 45 + (float)rng.NextDouble() * 55);

    /// <summary>A muted two-colour gradient with stripes at a random angle and per-pixel noise.</summary>
    private static RgbImage Background(Random rng, int size)
    {
        var image = new RgbImage(size, size);
        var c0 = new double[3];
        var c1 = new double[3];
        double grey0 = 60 + rng.Next(140), grey1 = 60 + rng.Next(140);
        for (int c = 0; c < 3; c++)
        {
            c0[c] = grey0 + rng.Next(-25, 26);
            c1[c] = grey1 + rng.Next(-25, 26);
        }
        double ga = rng.NextDouble() * Math.PI * 2, sa = rng.NextDouble() * Math.PI;
        double period = 6 + rng.NextDouble() * 30, amp = 6 + rng.NextDouble() * 22, noise = 6 + rng.NextDouble() * 14;
        double gx = Math.Cos(ga), gy = Math.Sin(ga), sx = Math.Cos(sa), sy = Math.Sin(sa);
        byte[] p = image.Pixels;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double t = Math.Clamp(0.5 + ((x - size / 2.0) * gx + (y - size / 2.0) * gy) / size, 0, 1);
                double stripe = amp * Math.Sin(2 * Math.PI * (x * sx + y * sy) / period);
                int o = (y * size + x) * 3;
                for (int c = 0; c < 3; c++)
                {
                    double v = c0[c] + (c1[c] - c0[c]) * t + stripe + (rng.NextDouble() * 2 - 1) * noise;
                    p[o + c] = (byte)Math.Clamp(v, 0, 255);
                }
            }
        return image;
    }
}
