
namespace SharpVision.Models;

/// <summary>What a factory needs to build a network.</summary>
/// <param name="NumClasses">Head outputs: 1 = binary (sigmoid), more = softmax.</param>
/// <param name="ImageSize">Square input side in pixels; 0 or less means the model's default.</param>
/// <param name="Channels">Input channels: 3 (RGB) or 1 (grayscale).</param>
/// <param name="Width">The width of a family that has one (minicnn: first-stage filters); null means the family's default.</param>
public sealed record ModelOptions(int NumClasses, int ImageSize, int Channels = 3, int? Width = null);

/// <summary>
/// Built-in networks by name (smallcnn, minicnn, vgg16, resnet18, resnet34, resnet50, resnet18-mlnet). A name ending in
/// .yaml/.yml is read as a <see cref="ModelYaml"/> definition instead.
/// </summary>
public static class ModelRegistry
{
    private sealed record Entry(int DefaultImageSize, Func<ModelOptions, ImageClassifier> Factory, int? DefaultWidth);

    private static readonly object Gate = new();
    private static readonly Dictionary<string, Entry> Entries = new(StringComparer.Ordinal);

    static ModelRegistry()
    {
        Register(SmallCnn.Name, SmallCnn.DefaultImageSize, o => SmallCnn.Create(o.NumClasses, o.ImageSize, o.Channels));
        Register(MiniCnn.Name, MiniCnn.DefaultImageSize, o => MiniCnn.Create(o.NumClasses, o.ImageSize, o.Channels, o.Width!.Value), MiniCnn.DefaultWidth);
        Register("vgg16", 224, o => Vgg.Vgg16(o.NumClasses, o.Channels, o.ImageSize));
        Register("resnet18", 224, o => ResNet.ResNet18(o.NumClasses, o.Channels, o.ImageSize));
        Register("resnet34", 224, o => ResNet.ResNet34(o.NumClasses, o.Channels, o.ImageSize));
        Register("resnet50", 224, o => ResNet.ResNet50(o.NumClasses, o.Channels, o.ImageSize));
    }

    /// <summary>Registered names, sorted.</summary>
    public static IReadOnlyList<string> Names
    {
        get { lock (Gate) return Entries.Keys.Order(StringComparer.Ordinal).ToList(); }
    }

    /// <summary>
    /// Adds a network; the factory receives options whose ImageSize is already resolved (never 0), and whose Width is
    /// resolved too for a family with a <paramref name="defaultWidth"/> (null for the others: they take none).
    /// </summary>
    /// <exception cref="InvalidOperationException">The name is already registered.</exception>
    public static void Register(string name, int defaultImageSize, Func<ModelOptions, ImageClassifier> factory, int? defaultWidth = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentOutOfRangeException.ThrowIfLessThan(defaultImageSize, 1);
        if (defaultWidth is { } w) ArgumentOutOfRangeException.ThrowIfLessThan(w, 1, nameof(defaultWidth));
        lock (Gate)
        {
            if (!Entries.TryAdd(name, new Entry(defaultImageSize, factory, defaultWidth)))
                throw new InvalidOperationException($"a model named '{name}' is already registered");
        }
    }

    /// <summary>True for a registered name.</summary>
    public static bool Contains(string name) { lock (Gate) return Entries.ContainsKey(name); }

    /// <summary>Registered names of the families that take a width (<see cref="ModelOptions.Width"/>), sorted.</summary>
    public static IReadOnlyList<string> NamesWithWidth
    {
        get { lock (Gate) return Entries.Where(e => e.Value.DefaultWidth is not null).Select(e => e.Key).Order(StringComparer.Ordinal).ToList(); }
    }

    /// <summary>True when <paramref name="name"/> is a YAML definition path rather than a registered name.</summary>
    public static bool IsDefinitionFile(string name) =>
        name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Refuses a width below 1, or any width for <paramref name="name"/> when its family has none (a YAML definition
    /// states its own filters); errors name <paramref name="option"/>.
    /// </summary>
    /// <exception cref="InvalidOptionException">The width does not apply or is below 1.</exception>
    public static void CheckWidth(string name, int? width, string option = "ModelRegistry.Width")
    {
        if (width is not { } w) return;
        string received = w.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (w < 1) throw new InvalidOptionException(option, "an integer >= 1", received);
        if (IsDefinitionFile(name) || Lookup(name).DefaultWidth is null)
            throw new InvalidOptionException(option, $"left out for {name} (a width applies to {string.Join(", ", NamesWithWidth)})", received);
    }

    /// <summary>Default input side of a registered model, or of a YAML definition (its input.size).</summary>
    public static int DefaultImageSize(string name)
    {
        if (IsDefinitionFile(name)) return ModelYaml.Load(name).InputSize;
        return Lookup(name).DefaultImageSize;
    }

    /// <summary>
    /// Builds <paramref name="name"/> (a registered name or a .yaml/.yml definition file) for the options.
    /// </summary>
    /// <exception cref="InvalidOptionException">Unknown name: "--model must be one of ... or a .yaml file"; a width for a family without one.</exception>
    /// <exception cref="ModelDefinitionException">A YAML definition that cannot be built.</exception>
    public static ImageClassifier Create(string name, ModelOptions options)
    {
        CheckWidth(name, options.Width);
        if (IsDefinitionFile(name))
        {
            var spec = ModelYaml.Load(name);
            if (options.ImageSize > 0) spec = spec with { InputSize = options.ImageSize };
            spec = spec with { Channels = options.Channels };
            return new SequentialModel(spec, options.NumClasses);
        }
        var entry = Lookup(name);
        return entry.Factory(options with
        {
            ImageSize = options.ImageSize > 0 ? options.ImageSize : entry.DefaultImageSize,
            Width = options.Width ?? entry.DefaultWidth,
        });
    }

    private static Entry Lookup(string name)
    {
        lock (Gate)
        {
            if (Entries.TryGetValue(name, out var e)) return e;
        }
        throw new InvalidOptionException("ModelRegistry.Model", $"one of {string.Join(", ", Names)} or a .yaml file", name);
    }
}
