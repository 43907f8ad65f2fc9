using System.Globalization;
using System.Text.Json;
using SharpVision.Imaging;
using SharpVision.Reports;
using SkiaSharp;

namespace SharpVision.Evaluation;

/// <summary>
/// A classifier over a video (<see cref="VideoInference"/>): one JSON line per processed frame with its top-k classes,
/// <c>{"frame": 12, "time": 0.48, "top": [{"class_id": 1, "class": "dog", "score": 0.93}, ...]}</c>, and the frames
/// drawn with the best label and score in their top-left corner.
/// </summary>
public static class ClassificationVideo
{
    /// <summary>Runs <paramref name="predict"/> (probabilities [N][K] of a batch of frames) over <paramref name="source"/>.</summary>
    public static VideoRunResult Run(string source, VideoOptions options, Func<IReadOnlyList<RgbImage>, float[][]> predict, IReadOnlyList<string> classes,
        int topK = 1, IProgress<VideoProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (topK < 1) throw new InvalidOptionException(nameof(topK), "an integer >= 1", topK.ToString(CultureInfo.InvariantCulture));
        return VideoInference.Run(source, options, predict, (image, p) => Draw(image, Top(p, 1, classes)[0]),
            (w, p) => Write(w, Top(p, topK, classes)), progress, cancellationToken);
    }

    /// <summary>The <paramref name="k"/> best classes of one probability row, best first (ties: lower index first).</summary>
    public static IReadOnlyList<(int ClassId, string Class, float Score)> Top(float[] probabilities, int k, IReadOnlyList<string> classes) =>
        Enumerable.Range(0, probabilities.Length).OrderByDescending(i => probabilities[i]).ThenBy(i => i).Take(k)
            .Select(i => (i, classes[i], probabilities[i])).ToList();

    private static void Write(Utf8JsonWriter w, IReadOnlyList<(int ClassId, string Class, float Score)> top)
    {
        w.WriteStartArray("top");
        foreach (var (id, name, score) in top)
        {
            w.WriteStartObject();
            w.WriteNumber("class_id", id);
            w.WriteString("class", name);
            w.WriteNumber("score", Math.Round(score, 6));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>A copy of <paramref name="image"/> with "class score" on a dark band at its top-left corner.</summary>
    public static RgbImage Draw(RgbImage image, (int ClassId, string Class, float Score) best)
    {
        using var bitmap = SkiaConvert.ToBitmap(image);
        using (var canvas = new SKCanvas(bitmap))
        {
            using var font = new SKFont(ReportFonts.Typeface, Math.Max(12f, Math.Min(image.Width, image.Height) / 18f));
            using var band = new SKPaint { Color = new SKColor(0, 0, 0, 170), Style = SKPaintStyle.Fill };
            using var text = new SKPaint { Color = SKColors.White, IsAntialias = true };
            string label = $"{best.Class} {best.Score.ToString("0.00", CultureInfo.InvariantCulture)}";
            float pad = font.Size * .3f;
            canvas.DrawRect(SKRect.Create(0, 0, font.MeasureText(label) + 2 * pad, font.Size * 1.3f), band);
            canvas.DrawText(label, pad, font.Size, SKTextAlign.Left, font, text);
        }
        return SkiaConvert.FromBitmap(bitmap);
    }
}
