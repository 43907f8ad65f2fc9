using SharpVision.Augmentation;
using SharpVision.Data.Detection;
using SharpVision.Imaging;
using SharpVision.Models;

namespace SharpVision.Evaluation.Detection;

/// <summary>Whose arithmetic a detector follows, from the letterbox to the last box.</summary>
public enum DetectorArithmetic
{
    /// <summary>
    /// Ours, the same as training: centred letterbox resampled once (<see cref="BoxAugment.Warp"/>, grey 128),
    /// boxes mapped back by its exact inverse, w, h capped before <c>exp</c>, boxes emptied by clipping dropped.
    /// </summary>
    SharpVision,

    /// <summary>
    /// Darknet's <c>detector test</c>, bit for bit: its integer letterbox geometry and two-pass resize (grey 0.5),
    /// its <c>correct_yolo_boxes</c> (fractional offset), no cap, clipped boxes kept as printed.
    /// </summary>
    Darknet,
}

/// <summary>
/// The one letterbox of detector inference, both ways: an image into the network input [3, H, W] (0..1 RGB), and
/// a decoded box (relative to that input) back to image pixels, in either arithmetic.
/// </summary>
public static class DetectorLetterbox
{
    /// <summary>The network input for <paramref name="image"/>: planar floats [3, <paramref name="netHeight"/>, <paramref name="netWidth"/>].</summary>
    public static float[] Input(RgbImage image, int netWidth, int netHeight, DetectorArithmetic arithmetic) => arithmetic switch
    {
        DetectorArithmetic.Darknet => DarknetImage.Letterbox(image, netWidth, netHeight),
        _ => DetectionLoader.ToPlanar(BoxAugment.Warp(image, Centred(image.Width, image.Height, netWidth, netHeight))),
    };

    /// <summary>The corners in image pixels of a decoded box (centre and size relative to the network input).</summary>
    public static (float X1, float Y1, float X2, float Y2) ToImage(YoloCandidate box, int imageWidth, int imageHeight,
        int netWidth, int netHeight, DetectorArithmetic arithmetic)
    {
        if (arithmetic == DetectorArithmetic.Darknet)
        {
            var (x, y, w, h) = YoloDecoder.CorrectBox(box.X, box.Y, box.W, box.H, imageWidth, imageHeight, netWidth, netHeight);
            // Corners from the centre in float, like Darknet's overlap(): x - w/2, x + w/2.
            return (x - w / 2, y - h / 2, x + w / 2, y + h / 2);
        }
        float cx = box.X * netWidth, cy = box.Y * netHeight, bw = box.W * netWidth, bh = box.H * netHeight; // input pixels
        var t = Centred(imageWidth, imageHeight, netWidth, netHeight);
        var (x1, y1) = t.Inverse(cx - bw / 2, cy - bh / 2);
        var (x2, y2) = t.Inverse(cx + bw / 2, cy + bh / 2);
        return (x1, y1, x2, y2);
    }

    private static LetterboxTransform Centred(int imageWidth, int imageHeight, int netWidth, int netHeight)
    {
        // Our models are square (YoloNet.InputSize); the centred transform has one side.
        if (netWidth != netHeight)
            throw new ArgumentException($"the centred letterbox needs a square input. Received: {netWidth}x{netHeight}");
        return LetterboxTransform.Centred(imageWidth, imageHeight, netWidth);
    }
}
