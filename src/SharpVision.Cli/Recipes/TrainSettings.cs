using System.Globalization;
using System.Runtime.CompilerServices;

namespace SharpVision.Cli.Recipes;

/// <summary>Every resolved setting of a classification training run (written to args.yaml).</summary>
public sealed record TrainSettings
{
    public required string Data { get; init; }
    public string? Val { get; init; }
    public double? ValSplit { get; init; }
    public string Layout { get; init; } = "auto";
    public string? LabelPattern { get; init; }
    public string FilenameColumn { get; init; } = "filename";
    public string LabelColumn { get; init; } = "label";
    public string Model { get; init; } = "smallcnn";
    /// <summary>0 = the model's default input size.</summary>
    public int ImgSize { get; init; }
    /// <summary>auto (binary for 2 classes), binary or categorical.</summary>
    public string Labels { get; init; } = "auto";
    public int Batch { get; init; } = 32;
    public int Epochs { get; init; } = 10;
    public double Lr { get; init; } = 1e-3;
    public string Optimizer { get; init; } = "adam";
    public double Momentum { get; init; }
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; }
    public double LabelSmoothing { get; init; }
    public string ClassWeight { get; init; } = "none";
    public string? Augment { get; init; }
    public string Schedule { get; init; } = "none";
    public string Monitor { get; init; } = "val_loss";
    /// <summary>EarlyStopping patience; null = no early stopping.</summary>
    public int? Patience { get; init; }
    /// <summary>ReduceLROnPlateau patience; null = off.</summary>
    public int? ReduceLrPatience { get; init; }
    public double ReduceLrFactor { get; init; } = 0.1;
    public int TopK { get; init; }
    public int Seed { get; init; }
    public int? Workers { get; init; }
    public int? StepsPerEpoch { get; init; }
    public string Device { get; init; } = "auto";
    public string? Out { get; init; }
    public bool ExistOk { get; init; }
    public long MaxPixels { get; init; } = Imaging.DecodeOptions.DefaultMaxPixels;
    /// <summary>Write a steps.csv row every N training steps; null = off.</summary>
    public int? LogEvery { get; init; }
    /// <summary>Backbone weights with a new head: "imagenet" (offline, from NuGet) or null.</summary>
    public string? Pretrained { get; init; }
    /// <summary>A complete model's weights loaded strictly before training, or null.</summary>
    public string? Weights { get; init; }
    /// <summary>"backbone" (everything but the head) or N (the first N layers <c>summary</c> lists); null = nothing frozen.</summary>
    public string? Freeze { get; init; }
    /// <summary>"E1,E2": E1 epochs with the backbone frozen, then E2 unfrozen at layer-group rates; null = off.</summary>
    public string? FineTune { get; init; }
    /// <summary>With <see cref="FineTune"/>: unfreeze only the last K blocks in phase 2; null = all.</summary>
    public int? UnfreezeTop { get; init; }
    /// <summary>With augmentation and a frozen backbone: cache K augmented copies of each image's features; null = no cache with augmentation.</summary>
    public int? CacheAugmented { get; init; }
    /// <summary>auto (cache backbone features whenever the backbone is frozen and the inputs are fixed) or off.</summary>
    public string FeatureCache { get; init; } = "auto";
}

/// <summary>
/// args.yaml: every resolved setting, one <c>snake_case: value</c> line each, read back by --resume. Numbers, flags
/// and strings are plain scalars; a tuple is <c>'a,b'</c>; a record of such values (augmentation options) is
/// <c>'name=value,name=value'</c>.
/// </summary>
public static class TrainSettingsYaml
{
    /// <summary>Every public property of <paramref name="s"/> (classification or detection settings) as one line.</summary>
    public static string Write<T>(T s) where T : notnull
    {
        var lines = new List<string>();
        foreach (var p in typeof(T).GetProperties())
        {
            object? v = p.GetValue(s);
            string text = v switch
            {
                null => "null",
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => "'" + Scalar(v).Replace("'", "''") + "'",
            };
            lines.Add($"{Snake(p.Name)}: {text}");
        }
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>The classification settings of a run's args.yaml.</summary>
    public static TrainSettings Read(string path) => Read<TrainSettings>(path, "sharpvision train");

    /// <summary>
    /// The settings of type <typeparamref name="T"/> in <paramref name="path"/> (as <see cref="Write{T}"/> wrote them);
    /// a missing key keeps the property's default. <paramref name="writer"/> names the command in the not-found message.
    /// </summary>
    public static T Read<T>(string path, string writer) where T : class
    {
        if (!File.Exists(path))
            throw new SharpVisionException($"{path} not found: --resume needs a run folder written by '{writer}'.");
        Dictionary<string, string?> values;
        try
        {
            values = new YamlDotNet.Serialization.DeserializerBuilder().Build()
                .Deserialize<Dictionary<string, string?>>(File.ReadAllText(path)) ?? new();
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new SharpVisionException($"{path} is not valid YAML ({e.Message}).");
        }
        // Activator rather than new(): the settings have required members, which only the compiler enforces.
        var settings = (T)Activator.CreateInstance(typeof(T))!;
        foreach (var p in typeof(T).GetProperties().Where(p => p.CanWrite))
        {
            if (!values.TryGetValue(Snake(p.Name), out var text) || text is null || text == "null") continue;
            p.SetValue(settings, Parse(text, p.PropertyType, Snake(p.Name), path));
        }
        return settings;
    }

    /// <summary>A value as the text <see cref="Parse"/> reads back: tuples comma-joined, records as name=value pairs.</summary>
    private static string Scalar(object v) => v switch
    {
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string text => text,
        ITuple t => string.Join(',', Enumerable.Range(0, t.Length).Select(i => Scalar(t[i]!))),
        _ when IsRecordOfScalars(v.GetType()) => string.Join(',', v.GetType().GetProperties().Where(p => p.CanWrite)
            .Select(p => $"{Snake(p.Name)}={Scalar(p.GetValue(v)!)}")),
        _ => v.ToString()!,
    };

    private static object Parse(string text, Type propertyType, string key, string path)
    {
        try
        {
            return ParseValue(text, propertyType);
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
        {
            var type = Nullable.GetUnderlyingType(propertyType) ?? propertyType;
            throw new SharpVisionException($"{path}: {key} must be a {Describe(type)}. Received: {text}");
        }
    }

    /// <summary>Text -> value of <paramref name="propertyType"/>; a FormatException when it does not fit.</summary>
    private static object ParseValue(string text, Type propertyType)
    {
        var type = Nullable.GetUnderlyingType(propertyType) ?? propertyType;
        if (type == typeof(string)) return text;
        if (typeof(ITuple).IsAssignableFrom(type) && type.IsValueType)
        {
            var items = type.GetGenericArguments();
            var parts = text.Split(',');
            if (parts.Length != items.Length) throw new FormatException();
            return Activator.CreateInstance(type, parts.Select((part, i) => ParseValue(part.Trim(), items[i])).ToArray())!;
        }
        if (IsRecordOfScalars(type))
        {
            object record = Activator.CreateInstance(type)!;
            var properties = type.GetProperties().Where(p => p.CanWrite).ToDictionary(p => Snake(p.Name));
            foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var kv = pair.Split('=', 2);
                if (kv.Length != 2 || !properties.TryGetValue(kv[0].Trim(), out var p)) throw new FormatException();
                p.SetValue(record, ParseValue(kv[1].Trim(), p.PropertyType));
            }
            return record;
        }
        return Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
    }

    private static string Describe(Type type) =>
        typeof(ITuple).IsAssignableFrom(type) ? "comma-separated " + string.Join(",", type.GetGenericArguments().Select(t => t.Name))
        : IsRecordOfScalars(type) ? "comma-separated list of name=value for " + type.Name
        : type.Name;

    /// <summary>A class with a parameterless constructor whose settable properties are all numbers, flags or strings.</summary>
    private static bool IsRecordOfScalars(Type type) =>
        type.IsClass && type != typeof(string) && type.GetConstructor(Type.EmptyTypes) is not null
        && type.GetProperties().Where(p => p.CanWrite).All(p => p.PropertyType.IsPrimitive || p.PropertyType == typeof(string) || p.PropertyType == typeof(decimal));

    private static string Snake(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
