namespace SharpVision.Models;

/// <summary>What a registered detector is built for: class count, square input side and anchors (smallest first).</summary>
public sealed record DetectorOptions(int NumClasses, int ImageSize, IReadOnlyList<(float W, float H)> Anchors);

/// <summary>
/// Detectors by name, in the style of <see cref="ModelRegistry"/> (which holds classifiers): one factory per
/// variant, a duplicate name is an error. Holds the built-in YOLOv3 cfgs (yolov3, yolov3-tiny, -half, -quarter);
/// <c>yolov3-&lt;backbone&gt;</c> (a registered classifier as backbone) is built by the detection recipe.
/// </summary>
public static class DetectorRegistry
{
    private sealed record Entry(int AnchorCount, Func<DetectorOptions, YoloNet> Factory);

    private static readonly object Gate = new();
    private static readonly Dictionary<string, Entry> Entries = new(StringComparer.Ordinal);

    static DetectorRegistry()
    {
        foreach (var name in YoloCfg.Names)
            Register(name, YoloCfg.AnchorCount(name), o => new YoloModel(YoloCfg.Build(name, o.NumClasses, o.ImageSize, o.Anchors), name));
    }

    /// <summary>Registered names, sorted.</summary>
    public static IReadOnlyList<string> Names
    {
        get { lock (Gate) return Entries.Keys.Order(StringComparer.Ordinal).ToList(); }
    }

    /// <summary>Adds a detector; <paramref name="anchorCount"/> is how many anchors its factory expects (0: none).</summary>
    /// <exception cref="InvalidOperationException">The name is already registered.</exception>
    public static void Register(string name, int anchorCount, Func<DetectorOptions, YoloNet> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentOutOfRangeException.ThrowIfNegative(anchorCount);
        lock (Gate)
        {
            if (!Entries.TryAdd(name, new Entry(anchorCount, factory)))
                throw new InvalidOperationException($"a detector named '{name}' is already registered");
        }
    }

    /// <summary>True for a registered name.</summary>
    public static bool Contains(string name) { lock (Gate) return Entries.ContainsKey(name); }

    /// <summary>How many anchors the registered detector takes.</summary>
    public static int AnchorCount(string name) => Lookup(name).AnchorCount;

    /// <summary>Builds the registered detector <paramref name="name"/>.</summary>
    public static YoloNet Create(string name, DetectorOptions options) => Lookup(name).Factory(options);

    private static Entry Lookup(string name)
    {
        lock (Gate)
        {
            if (Entries.TryGetValue(name, out var entry)) return entry;
        }
        throw new InvalidOptionException("detector name", "one of " + string.Join(", ", Names), name);
    }
}
