using SharpVision.Imaging;
using SharpVision.Models;

namespace SharpVision.Evaluation.Detection;

/// <summary>Thresholds and batch of detector inference (every detector, trained or Darknet).</summary>
public sealed record DetectOptions
{
    /// <summary>Keep boxes whose score (objectness x class probability) is above this: 0.25 for predictions; evaluation uses 0.005 for mAP.</summary>
    public float Confidence { get; init; } = .25f;

    /// <summary>Per-class NMS removes a box whose IoU with a better one is strictly above this (Darknet's .45).</summary>
    public float Iou { get; init; } = .45f;

    /// <summary>Images per forward pass; null: the detector's default (8, or 1 for a Darknet cfg, see <see cref="YoloDetector.DefaultBatch"/>).</summary>
    public int? Batch { get; init; }

    /// <summary>Most boxes kept per image, best first; null: the detector's default (100, no limit for Darknet arithmetic).</summary>
    public int? MaxPerImage { get; init; }
}

/// <summary>The detections of one image of a <see cref="YoloDetector.Predict"/> run.</summary>
public sealed record ImageDetections(string Path, int ImageId, int Width, int Height, IReadOnlyList<DetectedObject> Objects);

/// <summary>The outcome of <see cref="YoloDetector.Predict"/>: detections per image in sorted input order, and files that could not be decoded.</summary>
public sealed record DetectionRun(IReadOnlyList<ImageDetections> Images, IReadOnlyList<ImageDecodeException> Skipped, IReadOnlyList<string> ClassNames);
