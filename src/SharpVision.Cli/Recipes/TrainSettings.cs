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

/// <summary>args.yaml: every resolved setting, one <c>snake_case: value</c> line each, read back by --resume.</summary>
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
                IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                _ => "'" + v.ToString()!.Replace("'", "''") + "'",
            };
            lines.Add($"{Snake(p.Name)}: {text}");
        }
        return string.Join('\n', lines) + "\n";
    }

    public static TrainSettings Read(string path)
    {
        if (!File.Exists(path))
            throw new SharpVisionException($"{path} not found: --resume needs a run folder written by 'sharpvision train'.");
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
        object settings = new TrainSettings { Data = "" };
        foreach (var p in typeof(TrainSettings).GetProperties())
        {
            if (!values.TryGetValue(Snake(p.Name), out var text) || text is null || text == "null") continue;
            var type = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            try
            {
                object value = type == typeof(string) ? text : Convert.ChangeType(text, type, System.Globalization.CultureInfo.InvariantCulture);
                p.SetValue(settings, value);
            }
            catch (FormatException)
            {
                throw new SharpVisionException($"{path}: {Snake(p.Name)} must be a {type.Name}. Received: {text}");
            }
        }
        return (TrainSettings)settings;
    }

    private static string Snake(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
