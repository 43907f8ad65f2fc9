using System.Text.Json;
using SharpVision.Imaging;
using SharpVision.Models;

namespace SharpVision.Evaluation.Detection;

/// <summary>
/// A detector over a video (<see cref="VideoInference"/>): boxes drawn as on images (<see cref="DetectionWriter.Draw"/>)
/// and one JSON line per processed frame: <c>{"frame": 12, "time": 0.48, "detections": [{"class_id": 0, "class": "dog",
/// "score": 0.91, "box": [x1, y1, x2, y2]}]}</c> in the frame's pixels, best first.
/// </summary>
public static class DetectionVideo
{
    /// <summary>Runs <paramref name="detect"/> (any detector's batch call) over <paramref name="source"/>.</summary>
    public static VideoRunResult Run(string source, VideoOptions options, Func<IReadOnlyList<RgbImage>, IReadOnlyList<IReadOnlyList<DetectedObject>>> detect,
        IProgress<VideoProgress>? progress = null, CancellationToken cancellationToken = default) =>
        VideoInference.Run(source, options, detect, DetectionWriter.Draw, WriteDetections, progress, cancellationToken);

    private static void WriteDetections(Utf8JsonWriter w, IReadOnlyList<DetectedObject> objects)
    {
        w.WriteStartArray("detections");
        foreach (var d in objects)
        {
            w.WriteStartObject();
            w.WriteNumber("class_id", d.ClassId);
            w.WriteString("class", d.ClassName);
            w.WriteNumber("score", Math.Round(d.Score, 6));
            w.WriteStartArray("box");
            w.WriteNumberValue(Math.Round(d.X1, 2));
            w.WriteNumberValue(Math.Round(d.Y1, 2));
            w.WriteNumberValue(Math.Round(d.X2, 2));
            w.WriteNumberValue(Math.Round(d.Y2, 2));
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }
}
