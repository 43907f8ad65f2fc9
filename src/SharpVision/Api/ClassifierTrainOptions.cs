using System.Globalization;
using SharpVision.Models;
using SharpVision.Weights.Pretrained;

namespace SharpVision.Api;

/// <summary>
/// Every setting of a classification training run: what <c>sharpvision train</c>'s flags fill and what
/// <see cref="Classifier.Train(string, ClassifierTrainOptions, TrainEvents?, CancellationToken)"/> takes; written to the run's args.yaml
/// (one line per property, read back by <see cref="Classifier.Resume"/>).
/// </summary>
public sealed record ClassifierTrainOptions
{
    /// <summary>The training data (folder per class, folder of label.N.jpg files, or a CSV); <see cref="Classifier.Train(string, ClassifierTrainOptions, TrainEvents?, CancellationToken)"/> sets it.</summary>
    public string Data { get; init; } = "";
    /// <summary>A separate validation set, or null.</summary>
    public string? Val { get; init; }
    public double? ValSplit { get; init; }
    public string Layout { get; init; } = "auto";
    public string? LabelPattern { get; init; }
    public string FilenameColumn { get; init; } = "filename";
    public string LabelColumn { get; init; } = "label";
    public string Model { get; init; } = "smallcnn";
    /// <summary>
    /// The width of a model family that has one (minicnn: filters of its first stage, doubled in each of the next two);
    /// null = the family's default (minicnn 32), or with a .svmodel <see cref="Weights"/> that file's width.
    /// </summary>
    public int? Width { get; init; }
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
    /// <summary>
    /// The learning-rate schedule: auto (the default: onecycle, or none when <see cref="ReduceLrPatience"/> manages the
    /// rate, as in Keras), none, step, cosine or onecycle. See <see cref="ResolvedSchedule"/>.
    /// </summary>
    public string Schedule { get; init; } = "auto";
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
    /// <summary>
    /// The training steps' arithmetic: <see cref="Training.Precision.Bf16"/> is bfloat16 mixed precision
    /// (<see cref="Training.MixedPrecision"/>; CPU with AVX512-BF16 or AMX-BF16). Validation and saved models are float32.
    /// </summary>
    public Training.Precision Precision { get; init; }
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
    /// <summary>(E1, E2): E1 epochs with the backbone frozen, then E2 unfrozen at layer-group rates; null = off (then <see cref="Epochs"/> is ignored).</summary>
    public (int Frozen, int Unfrozen)? FineTune { get; init; }
    /// <summary>With <see cref="FineTune"/>: unfreeze only the last K blocks in phase 2; null = all.</summary>
    public int? UnfreezeTop { get; init; }
    /// <summary>With augmentation and a frozen backbone: cache K augmented copies of each image's features; null = no cache with augmentation.</summary>
    public int? CacheAugmented { get; init; }
    /// <summary>auto (cache backbone features whenever the backbone is frozen and the inputs are fixed) or off.</summary>
    public string FeatureCache { get; init; } = "auto";

    /// <summary>The schedules <see cref="Schedule"/> accepts.</summary>
    public static readonly IReadOnlyList<string> Schedules = ["auto", "none", "step", "cosine", "onecycle"];

    /// <summary>
    /// The schedule that runs: <see cref="Schedule"/>, with auto made onecycle (fastai's <c>fit_one_cycle</c>, PyTorch's
    /// <c>OneCycleLR</c>: <see cref="Lr"/> is the peak) or none when <see cref="ReduceLrPatience"/> is set (ReduceLROnPlateau
    /// then owns the rate, as in the Keras tutorials; a schedule would overwrite its reductions).
    /// </summary>
    public string ResolvedSchedule => Schedule != "auto" ? Schedule : ReduceLrPatience is null ? "onecycle" : "none";

    /// <summary>The epochs the run lasts: E1 + E2 with <see cref="FineTune"/>, else <see cref="Epochs"/>.</summary>
    public int TotalEpochs => FineTune is { } ft ? ft.Frozen + ft.Unfrozen : Epochs;

    /// <summary>
    /// Checks the settings that depend on each other or on the file system; errors name the property
    /// (<c>ClassifierTrainOptions.ValSplit must be ...</c>).
    /// </summary>
    public ClassifierTrainOptions Validate()
    {
        if (Data.Length == 0 || (!File.Exists(Data) && !Directory.Exists(Data)))
            throw new DatasetException($"DATA {Data} does not exist (expected a folder or a CSV file).");
        if (Val is not null && ValSplit is not null)
            throw new InvalidOptionException(Name(nameof(ValSplit)), $"left out when {Name(nameof(Val))} is given", ValSplit.Value.ToString(CultureInfo.InvariantCulture));
        if (ValSplit is { } split && (split < 0 || split > 0.99))
            throw new InvalidOptionException(Name(nameof(ValSplit)), "a number in [0, 0.99]", split.ToString(CultureInfo.InvariantCulture));
        if (Freeze is not null) Freezing.ValidateSpec(Freeze);
        if (FineTune is { } ft && (ft.Frozen < 1 || ft.Unfrozen < 1))
            throw new InvalidOptionException(Name(nameof(FineTune)), "two epoch counts E1,E2 (each >= 1), e.g. 3,3", $"{ft.Frozen},{ft.Unfrozen}");
        if (FineTune is not null && Freeze is not null)
            throw new InvalidOptionException(Name(nameof(Freeze)), $"left out with {Name(nameof(FineTune))} (phase 1 freezes the backbone)", Freeze);
        if (UnfreezeTop is { } top && FineTune is null)
            throw new InvalidOptionException(Name(nameof(UnfreezeTop)), $"used with {Name(nameof(FineTune))} E1,E2", top.ToString(CultureInfo.InvariantCulture));
        if (CacheAugmented is { } copies && Augment is null)
            throw new InvalidOptionException(Name(nameof(CacheAugmented)), $"used with {Name(nameof(Augment))} (without augmentation one copy is cached automatically)", copies.ToString(CultureInfo.InvariantCulture));
        if (Pretrained is not null) PretrainedWeights.ArchitectureFor(Model, Pretrained); // validates source and model
        if (ModelRegistry.IsDefinitionFile(Model) && !File.Exists(Model))
            throw new InvalidOptionException(Name(nameof(Model)), "a registered name or an existing .yaml file", $"{Model} (not found)");
        if (!ModelRegistry.IsDefinitionFile(Model) && !ModelRegistry.Contains(Model))
            throw new InvalidOptionException(Name(nameof(Model)), "one of " + string.Join(", ", ModelRegistry.Names) + " or a .yaml file", Model);
        ModelRegistry.CheckWidth(Model, Width, Name(nameof(Width)));
        if (Epochs < 1) throw new InvalidOptionException(Name(nameof(Epochs)), "an integer >= 1", Epochs.ToString(CultureInfo.InvariantCulture));
        if (Batch < 1) throw new InvalidOptionException(Name(nameof(Batch)), "an integer >= 1", Batch.ToString(CultureInfo.InvariantCulture));
        if (Labels is not ("auto" or "binary" or "categorical"))
            throw new InvalidOptionException(Name(nameof(Labels)), "one of auto, binary, categorical", Labels);
        if (!Schedules.Contains(Schedule))
            throw new InvalidOptionException(Name(nameof(Schedule)), "one of " + string.Join(", ", Schedules), Schedule);
        if (FeatureCache is not ("auto" or "off"))
            throw new InvalidOptionException(Name(nameof(FeatureCache)), "one of auto, off", FeatureCache);
        // An error rather than a quiet fp32 run: the user asked for bf16's speed and would not get it.
        Training.MixedPrecision.Require(Precision, Name(nameof(Precision)));
        return this;
    }

    /// <summary>"ClassifierTrainOptions.Property": how errors name a setting (the CLI shows its flag instead).</summary>
    internal static string Name(string property) => $"{nameof(ClassifierTrainOptions)}.{property}";
}
