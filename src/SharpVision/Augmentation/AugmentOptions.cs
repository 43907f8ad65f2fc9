using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace SharpVision.Augmentation;

/// <summary>
/// Keras <c>ImageDataGenerator</c> settings, written as <c>rotation_range=40,zoom_range=0.2,horizontal_flip=true</c>
/// (ranges as <c>lo:hi</c>) on the command line or as a YAML mapping with the same snake_case keys.
/// Values are checked when parsed; a bad one raises <see cref="InvalidOptionException"/> naming
/// <c>--augment key</c>, the expected form and what was received.
/// </summary>
public sealed record AugmentOptions
{
    /// <summary>The accepted keys, in the order <see cref="ToSpec"/> writes them.</summary>
    public static IReadOnlyList<string> Keys { get; } =
    [
        "rescale", "rotation_range", "width_shift_range", "height_shift_range", "shear_range", "zoom_range",
        "horizontal_flip", "vertical_flip", "brightness_range", "fill_mode", "cval", "mean", "std",
    ];

    private static readonly string[] FillModeNames = ["nearest", "constant", "reflect", "wrap"];

    /// <summary>
    /// Keras' <c>rescale</c>: when set it replaces <c>Preprocessing.Scale</c>. Not a random transform: <see cref="ApplyTo"/>
    /// folds it (with <see cref="Mean"/> and <see cref="Std"/>) into the preprocessing the loader normalises with;
    /// <c>Classifier.Train</c> does so and saves the result in the model file.
    /// </summary>
    public float? Rescale { get; init; }
    /// <summary>Keras' <c>rotation_range</c>: rotation drawn uniformly in [-r, r] degrees.</summary>
    public double RotationRange { get; init; }
    /// <summary>Keras' <c>width_shift_range</c>: a fraction of the width when below 1, else pixels.</summary>
    public double WidthShiftRange { get; init; }
    /// <summary>Keras' <c>height_shift_range</c>: a fraction of the height when below 1, else pixels.</summary>
    public double HeightShiftRange { get; init; }
    /// <summary>Keras' <c>shear_range</c>: shear angle drawn uniformly in [-s, s] degrees.</summary>
    public double ShearRange { get; init; }
    /// <summary>Keras' <c>zoom_range</c> as [lo, hi]; a single z is written [1-z, 1+z]. (1, 1) means no zoom.</summary>
    public (double Lo, double Hi) ZoomRange { get; init; } = (1, 1);
    /// <summary>Keras' <c>horizontal_flip</c>: mirror left-right with probability 0.5.</summary>
    public bool HorizontalFlip { get; init; }
    /// <summary>Keras' <c>vertical_flip</c>: mirror top-bottom with probability 0.5.</summary>
    public bool VerticalFlip { get; init; }
    /// <summary>Keras' <c>brightness_range</c>: factor drawn uniformly in [lo, hi]; null leaves brightness alone.</summary>
    public (double Lo, double Hi)? BrightnessRange { get; init; }
    /// <summary>Keras' <c>fill_mode</c> for points outside the input.</summary>
    public FillMode FillMode { get; init; } = FillMode.Nearest;
    /// <summary>Keras' <c>cval</c>: the fill value (0..255 pixel units) for <see cref="FillMode.Constant"/>.</summary>
    public double Cval { get; init; }
    /// <summary>Per-channel mean (after rescale) for the loader's normalisation; null keeps the model's.</summary>
    public float[]? Mean { get; init; }
    /// <summary>Per-channel standard deviation (after rescale) for the loader's normalisation; null keeps the model's.</summary>
    public float[]? Std { get; init; }

    /// <summary>
    /// <paramref name="preprocessing"/> with <see cref="Rescale"/>, <see cref="Mean"/> and <see cref="Std"/> in place of its
    /// own where they are set: the normalisation a loader (and every later use of the model) must apply.
    /// </summary>
    public SharpVision.Imaging.Preprocessing ApplyTo(SharpVision.Imaging.Preprocessing preprocessing)
    {
        var result = preprocessing;
        if (Rescale is { } rescale) result = result with { Scale = rescale };
        if (Mean is { } mean) result = result with { Mean = mean };
        if (Std is { } std) result = result with { Std = std };
        return result;
    }

    /// <summary>True when no random transform at all is configured (rescale/mean/std do not count).</summary>
    public bool IsIdentity =>
        RotationRange == 0 && WidthShiftRange == 0 && HeightShiftRange == 0 && ShearRange == 0
        && ZoomRange == (1, 1) && !HorizontalFlip && !VerticalFlip
        && (BrightnessRange is null || BrightnessRange == (1, 1));

    /// <summary>
    /// Parses <c>key=value</c> pairs separated by commas (<c>rotation_range=40,brightness_range=0.8:1.2</c>).
    /// An empty or blank spec gives the defaults (no augmentation).
    /// </summary>
    public static AugmentOptions Parse(string? spec)
    {
        var options = new AugmentOptions();
        if (string.IsNullOrWhiteSpace(spec)) return options;
        var seen = new HashSet<string>();
        foreach (string rawPair in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = rawPair.IndexOf('=');
            if (eq <= 0)
                throw new InvalidOptionException("AugmentOptions.Augment", "a comma-separated list of key=value pairs (e.g. rotation_range=40,horizontal_flip=true)", rawPair);
            string key = rawPair[..eq].Trim().ToLowerInvariant();
            string value = rawPair[(eq + 1)..].Trim();
            if (!seen.Add(key))
                throw new InvalidOptionException($"AugmentOptions.Augment {key}", "given once", $"{value} (repeated)");
            options = options.With(key, value);
        }
        return options;
    }

    /// <summary>
    /// Reads a YAML mapping with Keras' keys (<c>rotation_range: 40</c>, <c>zoom_range: [0.8, 1.2]</c> or
    /// <c>zoom_range: 0.2</c>, <c>horizontal_flip: true</c>); values are checked as in <see cref="Parse"/>.
    /// </summary>
    public static AugmentOptions FromYamlFile(string path)
    {
        if (!File.Exists(path))
            throw new SharpVisionException($"{path}: augmentation file not found");
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new SharpVisionException($"{path}: not valid YAML ({e.Message})", e);
        }
        var options = new AugmentOptions();
        if (stream.Documents.Count == 0) return options;
        if (stream.Documents[0].RootNode is not YamlMappingNode map)
            throw new SharpVisionException($"{path}: expected a mapping of Keras augmentation keys (rotation_range: 40, ...)");
        foreach (var (keyNode, valueNode) in map.Children)
        {
            string key = ((keyNode as YamlScalarNode)?.Value ?? keyNode.ToString()).Trim().ToLowerInvariant();
            string value = valueNode switch
            {
                YamlScalarNode s => s.Value ?? "",
                YamlSequenceNode seq => string.Join(':', seq.Children.Select(c => (c as YamlScalarNode)?.Value ?? c.ToString())),
                _ => valueNode.ToString(),
            };
            options = options.With(key, value);
        }
        return options;
    }

    /// <summary>The <c>key=value</c> form that <see cref="Parse"/> reads back; only settings that differ from the defaults.</summary>
    public string ToSpec()
    {
        var parts = new List<string>();
        if (Rescale is { } r) parts.Add($"rescale={F(r)}");
        if (RotationRange != 0) parts.Add($"rotation_range={F(RotationRange)}");
        if (WidthShiftRange != 0) parts.Add($"width_shift_range={F(WidthShiftRange)}");
        if (HeightShiftRange != 0) parts.Add($"height_shift_range={F(HeightShiftRange)}");
        if (ShearRange != 0) parts.Add($"shear_range={F(ShearRange)}");
        if (ZoomRange != (1, 1)) parts.Add($"zoom_range={F(ZoomRange.Lo)}:{F(ZoomRange.Hi)}");
        if (HorizontalFlip) parts.Add("horizontal_flip=true");
        if (VerticalFlip) parts.Add("vertical_flip=true");
        if (BrightnessRange is { } b) parts.Add($"brightness_range={F(b.Lo)}:{F(b.Hi)}");
        if (FillMode != FillMode.Nearest) parts.Add($"fill_mode={FillModeNames[(int)FillMode]}");
        if (Cval != 0) parts.Add($"cval={F(Cval)}");
        if (Mean is not null) parts.Add($"mean={string.Join(':', Mean.Select(m => F(m)))}");
        if (Std is not null) parts.Add($"std={string.Join(':', Std.Select(s => F(s)))}");
        return string.Join(',', parts);
    }

    /// <inheritdoc cref="ToSpec"/>
    public override string ToString() => ToSpec();

    /// <summary>Records compare arrays by reference; compare the spec instead so parsed copies are equal.</summary>
    public bool Equals(AugmentOptions? other) => other is not null && ToSpec() == other.ToSpec();

    /// <inheritdoc/>
    public override int GetHashCode() => ToSpec().GetHashCode(StringComparison.Ordinal);

    private AugmentOptions With(string key, string value)
    {
        string option = $"AugmentOptions.Augment {key}";
        switch (key)
        {
            case "rescale":
            {
                double v = Number(option, value, "a number (e.g. 0.00392156862745098 for 1/255) or 1/255");
                return this with { Rescale = (float)v };
            }
            case "rotation_range": return this with { RotationRange = NonNegative(option, value, "a number of degrees >= 0") };
            case "width_shift_range": return this with { WidthShiftRange = NonNegative(option, value, "a number >= 0 (a fraction of the width when < 1, pixels when >= 1)") };
            case "height_shift_range": return this with { HeightShiftRange = NonNegative(option, value, "a number >= 0 (a fraction of the height when < 1, pixels when >= 1)") };
            case "shear_range": return this with { ShearRange = NonNegative(option, value, "a number of degrees >= 0") };
            case "zoom_range":
            {
                const string expected = "a number z >= 0 meaning [1-z, 1+z], or a range lo:hi with 0 < lo <= hi";
                double[] v = Numbers(option, value, expected);
                (double lo, double hi) = v.Length switch
                {
                    1 when v[0] >= 0 => (1 - v[0], 1 + v[0]),
                    2 => (v[0], v[1]),
                    _ => throw new InvalidOptionException(option, expected, value),
                };
                if (!(lo > 0) || lo > hi) throw new InvalidOptionException(option, expected, value);
                return this with { ZoomRange = (lo, hi) };
            }
            case "horizontal_flip": return this with { HorizontalFlip = Bool(option, value) };
            case "vertical_flip": return this with { VerticalFlip = Bool(option, value) };
            case "brightness_range":
            {
                const string expected = "a range lo:hi with 0 <= lo <= hi (e.g. 0.8:1.2)";
                double[] v = Numbers(option, value, expected);
                if (v.Length != 2 || v[0] < 0 || v[0] > v[1]) throw new InvalidOptionException(option, expected, value);
                return this with { BrightnessRange = (v[0], v[1]) };
            }
            case "fill_mode":
            {
                int i = Array.IndexOf(FillModeNames, value.ToLowerInvariant());
                if (i < 0) throw new InvalidOptionException(option, $"one of {string.Join(", ", FillModeNames)}", value);
                return this with { FillMode = (FillMode)i };
            }
            case "cval":
            {
                double v = Number(option, value, "a number from 0 to 255");
                if (v is < 0 or > 255) throw new InvalidOptionException(option, "a number from 0 to 255", value);
                return this with { Cval = v };
            }
            case "mean": return this with { Mean = Channels(option, value, allowZero: true) };
            case "std": return this with { Std = Channels(option, value, allowZero: false) };
            default:
                throw new InvalidOptionException("AugmentOptions.Augment key", $"one of {string.Join(", ", Keys)}", key);
        }
    }

    private static double Number(string option, string value, string expected)
    {
        string v = value.Trim();
        int slash = v.IndexOf('/');
        if (slash > 0 // "1/255" is how people write rescale
            && double.TryParse(v[..slash], NumberStyles.Float, CultureInfo.InvariantCulture, out double num)
            && double.TryParse(v[(slash + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double den) && den != 0)
            return num / den;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || !double.IsFinite(d))
            throw new InvalidOptionException(option, expected, value);
        return d;
    }

    private static double NonNegative(string option, string value, string expected)
    {
        double d = Number(option, value, expected);
        if (d < 0) throw new InvalidOptionException(option, expected, value);
        return d;
    }

    private static double[] Numbers(string option, string value, string expected) =>
        value.Split(':').Select(p => Number(option, p, expected)).ToArray();

    private static float[] Channels(string option, string value, bool allowZero)
    {
        string expected = allowZero
            ? "1 or 3 numbers separated by ':' (e.g. 0.5:0.5:0.5)"
            : "1 or 3 numbers > 0 separated by ':' (e.g. 0.229:0.224:0.225)";
        double[] v = Numbers(option, value, expected);
        if (v.Length is not (1 or 3) || (!allowZero && v.Any(x => x <= 0)))
            throw new InvalidOptionException(option, expected, value);
        return v.Select(x => (float)x).ToArray();
    }

    private static bool Bool(string option, string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw new InvalidOptionException(option, "true or false", value),
    };

    /// <summary>Shortest text that parses back to the same double ("R" round-trip, invariant culture).</summary>
    private static string F(double d) => d.ToString("R", CultureInfo.InvariantCulture);

    private static string F(float f) => f.ToString("R", CultureInfo.InvariantCulture);
}
