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
}
