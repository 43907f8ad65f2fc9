using System.Globalization;
using System.Text;
using System.Text.Json;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Reports;
using SharpVision.Weights;
using SkiaSharp;

namespace SharpVision.Evaluation.Detection;

/// <summary>
/// Writes detection results: <c>detections.txt</c> (annotation-line format, one image per line:
/// <c>path x1,y1,x2,y2,class,score ...</c>), <c>detections.json</c> (COCO results: <c>image_id</c>,
/// <c>category_id</c> = class index + 1, <c>bbox</c> [x, y, w, h] in pixels, <c>score</c>, plus <c>file_name</c>),
/// and images with boxes, labels and scores drawn. Every detector's <c>Predict</c> writes through one instance:
/// <see cref="AddImage"/> per image as it is decoded (so images are not all held), then <see cref="Finish"/>.
/// </summary>
public sealed class DetectionWriter
{
    private readonly string _outputDir;
    // detections.png is reserved: a drawn image must not take a name that looks like one of the run's own files.
    private readonly HashSet<string> _usedNames = new(StringComparer.OrdinalIgnoreCase) { "detections.png" };

    /// <summary>A writer into <paramref name="outputDir"/> (created).</summary>
    public DetectionWriter(string outputDir)
    {
        _outputDir = outputDir;
        Directory.CreateDirectory(outputDir);
    }

    /// <summary>
    /// Saves the image with its boxes drawn as <c>&lt;stem&gt;.png</c>; two inputs with the same stem (a.jpg, a.png
    /// or dir1/a.jpg, dir2/a.jpg) get a.png and a_2.png. Returns the file name used.
    /// </summary>
    public string AddImage(ImageDetections entry, RgbImage image)
    {
        string drawn = DrawnName(entry.Path);
        for (int n = 2; !_usedNames.Add(drawn); n++)
            drawn = $"{Path.GetFileNameWithoutExtension(entry.Path)}_{n}.png";
        SaveDrawn(image, entry.Objects, Path.Combine(_outputDir, drawn));
        return drawn;
    }

    /// <summary>Writes <c>detections.txt</c> and <c>detections.json</c> for the whole run.</summary>
    public void Finish(DetectionRun run)
    {
        WriteText(run, Path.Combine(_outputDir, "detections.txt"));
        WriteCocoJson(run, Path.Combine(_outputDir, "detections.json"));
    }

    /// <summary>The annotation lines, one per decoded image, in run order.</summary>
    public static string FormatText(DetectionRun run)
    {
        var sb = new StringBuilder();
        foreach (var image in run.Images)
        {
            sb.Append(image.Path);
            foreach (var d in image.Objects)
                sb.Append(' ').Append(Num(d.X1)).Append(',').Append(Num(d.Y1)).Append(',').Append(Num(d.X2)).Append(',').Append(Num(d.Y2))
                  .Append(',').Append(d.ClassId.ToString(CultureInfo.InvariantCulture)).Append(',').Append(d.Score.ToString("0.######", CultureInfo.InvariantCulture));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Writes <see cref="FormatText"/> atomically.</summary>
    public static void WriteText(DetectionRun run, string path) => AtomicFile.WriteAllText(path, FormatText(run));

    /// <summary>The COCO results array as JSON.</summary>
    public static string FormatCocoJson(DetectionRun run)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartArray();
            foreach (var image in run.Images)
                foreach (var d in image.Objects)
                {
                    w.WriteStartObject();
                    w.WriteNumber("image_id", image.ImageId);
                    w.WriteNumber("category_id", d.ClassId + 1);
                    w.WriteStartArray("bbox");
                    w.WriteNumberValue(Math.Round(d.X1, 2));
                    w.WriteNumberValue(Math.Round(d.Y1, 2));
                    w.WriteNumberValue(Math.Round(d.Width, 2));
                    w.WriteNumberValue(Math.Round(d.Height, 2));
                    w.WriteEndArray();
                    w.WriteNumber("score", Math.Round(d.Score, 6));
                    w.WriteString("file_name", Path.GetFileName(image.Path));
                    w.WriteEndObject();
                }
            w.WriteEndArray();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    /// <summary>Writes <see cref="FormatCocoJson"/> atomically.</summary>
    public static void WriteCocoJson(DetectionRun run, string path) => AtomicFile.WriteAllText(path, FormatCocoJson(run));

    /// <summary>The drawn image's file name for an input path: its stem + <c>.png</c>.</summary>
    public static string DrawnName(string imagePath) => Path.GetFileNameWithoutExtension(imagePath) + ".png";

    /// <summary>A copy of the image with each box outlined in its class colour and labelled "name score".</summary>
    public static RgbImage Draw(RgbImage image, IReadOnlyList<DetectedObject> objects)
    {
        using var bitmap = SkiaConvert.ToBitmap(image);
        using (var canvas = new SKCanvas(bitmap))
        {
            float line = Math.Max(2f, Math.Min(image.Width, image.Height) / 200f);
            using var font = new SKFont(ReportFonts.Typeface, Math.Max(11f, Math.Min(image.Width, image.Height) / 30f));
            using var stroke = new SKPaint { Style = SKPaintStyle.Stroke, StrokeWidth = line, IsAntialias = true };
            using var fill = new SKPaint { Style = SKPaintStyle.Fill, IsAntialias = true };
            using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
            // Lowest score first so the best boxes are drawn on top.
            foreach (var d in objects.OrderBy(o => o.Score))
            {
                var colour = ClassColour(d.ClassId);
                stroke.Color = colour;
                canvas.DrawRect(SKRect.Create(d.X1, d.Y1, d.Width, d.Height), stroke);
                string label = $"{d.ClassName} {d.Score.ToString("0.00", CultureInfo.InvariantCulture)}";
                float tw = font.MeasureText(label), th = font.Size * 1.2f;
                // Above the box when there is room, else just inside its top edge.
                float top = d.Y1 - th >= 0 ? d.Y1 - th : d.Y1;
                fill.Color = colour;
                // Black text on light colours, white on dark ones (Rec. 601 luma).
                text.Color = 0.299 * colour.Red + 0.587 * colour.Green + 0.114 * colour.Blue < 140 ? SKColors.White : SKColors.Black;
                canvas.DrawRect(SKRect.Create(d.X1 - line / 2, top, tw + 6, th), fill);
                canvas.DrawText(label, d.X1 - line / 2 + 3, top + font.Size, SKTextAlign.Left, font, text);
            }
        }
        return SkiaConvert.FromBitmap(bitmap);
    }

    /// <summary>Draws and saves as PNG.</summary>
    public static void SaveDrawn(RgbImage image, IReadOnlyList<DetectedObject> objects, string path) =>
        ImageEncoder.SavePng(Draw(image, objects), path);

    /// <summary>A bright colour per class, stable across runs (hue stepped by the golden angle).</summary>
    public static SKColor ClassColour(int classId) => SKColor.FromHsl(classId * 137.508f % 360f, 85f, 55f);

    private static string Num(float v) => v.ToString("0.##", CultureInfo.InvariantCulture);
}
