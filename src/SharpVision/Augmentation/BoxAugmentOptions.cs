using System.Globalization;
using SharpVision.Imaging;

namespace SharpVision.Augmentation;

/// <summary>
/// Detection augmentation: keras-yolo3's <c>get_random_data</c> (random aspect jitter and scale of the letterboxed
/// image, random placement, horizontal flip, HSV jitter) plus Ultralytics' mosaic. The defaults were chosen by
/// measurement on a small real-photo set (60 training images, 6 classes; README "Detection augmentation"): milder
/// geometry than keras-yolo3's (jitter 0.2, scale 0.6-1.4 instead of 0.3, 0.25-2) and mosaic on half the samples
/// gave mAP@0.5 0.913 against 0.652 for keras-yolo3's settings. keras-yolo3's exactly: Jitter 0.3, scale 0.25-2, Mosaic 0.
/// </summary>
public sealed record BoxAugmentOptions
{
    /// <summary>Aspect jitter: the aspect ratio is multiplied by rand(1-j, 1+j) / rand(1-j, 1+j).</summary>
    public double Jitter { get; init; } = .2;
    /// <summary>Smallest scale of the image's longer fitted side relative to the input.</summary>
    public double MinScale { get; init; } = .6;
    /// <summary>Largest scale.</summary>
    public double MaxScale { get; init; } = 1.4;
    /// <summary>Flip horizontally with probability 0.5.</summary>
    public bool Flip { get; init; } = true;
    /// <summary>Hue shift drawn in [-hue, hue] (fraction of the colour circle).</summary>
    public double Hue { get; init; } = .1;
    /// <summary>Saturation multiplied by rand(1, s) or its inverse.</summary>
    public double Saturation { get; init; } = 1.5;
    /// <summary>Value multiplied by rand(1, v) or its inverse.</summary>
    public double Value { get; init; } = 1.5;
    /// <summary>
    /// Probability that a training sample is a mosaic (Ultralytics/YOLOv4): four images, each scaled and jittered into
    /// one quadrant of the input around a random centre, flipped and HSV-jittered as one. 0 = never (keras-yolo3).
    /// The record's default is 0, so settings written before mosaic existed (a run's args.yaml) keep their meaning;
    /// <see cref="Recommended"/> (what <c>detect train</c> and a null <c>DetectorTrainOptions.Augment</c> use) has 0.5.
    /// </summary>
    public double Mosaic { get; init; }

    /// <summary>The measured defaults of <c>detect train</c>: this record's values with <see cref="Mosaic"/> 0.5.</summary>
    public static BoxAugmentOptions Recommended { get; } = new() { Mosaic = .5 };

    /// <summary>Whether HSV jitter is on (hue, saturation or value may change).</summary>
    public bool Hsv => Hue > 0 || Saturation > 1 || Value > 1;

    /// <summary>Checks the ranges, naming the option.</summary>
    public BoxAugmentOptions Validate()
    {
        static string S(double v) => v.ToString(CultureInfo.InvariantCulture);
        if (Jitter is < 0 or >= 1) throw new InvalidOptionException("jitter", "a number in [0, 1)", S(Jitter));
        if (MinScale <= 0 || MaxScale < MinScale) throw new InvalidOptionException("scale", "0 < min <= max", $"{S(MinScale)}..{S(MaxScale)}");
        if (Hue is < 0 or > .5) throw new InvalidOptionException("hue", "a number in [0, 0.5]", S(Hue));
        if (Saturation < 1 || Value < 1) throw new InvalidOptionException("saturation/value", "numbers >= 1", $"{S(Saturation)}/{S(Value)}");
        if (Mosaic is < 0 or > 1) throw new InvalidOptionException("mosaic", "a probability in [0, 1]", S(Mosaic));
        return this;
    }
}

/// <summary>
/// The geometry of a letterbox: output = scale * input + offset per axis, then (when flipped) x -> size - x.
/// Continuous pixel coordinates (pixel i covers [i, i+1]), the same for the image warp and the boxes.
/// </summary>
public readonly record struct LetterboxTransform(int Size, float ScaleX, float ScaleY, float OffsetX, float OffsetY, bool Flipped)
{
    /// <summary>The centred letterbox with no jitter (inference): the longer side fills the input.</summary>
    public static LetterboxTransform Centred(int imageWidth, int imageHeight, int size)
    {
        float s = Math.Min((float)size / imageWidth, (float)size / imageHeight);
        return new LetterboxTransform(size, s, s, (size - imageWidth * s) / 2, (size - imageHeight * s) / 2, false);
    }

    /// <summary>Image point -> input point.</summary>
    public (float X, float Y) Forward(float x, float y)
    {
        float u = ScaleX * x + OffsetX, v = ScaleY * y + OffsetY;
        return (Flipped ? Size - u : u, v);
    }

    /// <summary>Input point -> image point.</summary>
    public (float X, float Y) Inverse(float u, float v)
    {
        if (Flipped) u = Size - u;
        return ((u - OffsetX) / ScaleX, (v - OffsetY) / ScaleY);
    }
}
