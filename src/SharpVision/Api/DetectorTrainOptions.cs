using SharpVision.Augmentation;
using SharpVision.Weights.Pretrained;

namespace SharpVision.Api;

/// <summary>
/// Every setting of a detector training run: what <c>sharpvision detect train</c>'s flags fill and what
/// <see cref="Detector.Train(string, DetectorTrainOptions, TrainEvents?, CancellationToken)"/> takes; written to the run's args.yaml.
/// </summary>
public sealed record DetectorTrainOptions
{
    /// <summary>Training annotations (lines file, VOC folder, YOLO folder or COCO json); <see cref="Detector.Train(string, DetectorTrainOptions, TrainEvents?, CancellationToken)"/> sets it.</summary>
    public string Data { get; init; } = "";
    /// <summary>Validation annotations, or null.</summary>
    public string? Val { get; init; }
    /// <summary>Class-names file, or null to use the data's classes.</summary>
    public string? Classes { get; init; }
    /// <summary>Anchors file (<c>w,h, w,h, ...</c>), or null for k-means on the training boxes.</summary>
    public string? Anchors { get; init; }
    /// <summary>yolov3, yolov3-tiny, yolov3-tiny-half or a .cfg file.</summary>
    public string Model { get; init; } = "yolov3-tiny";
    /// <summary>A Darknet .weights file whose leading layers fill the backbone.</summary>
    public string? Pretrained { get; init; }
    /// <summary>A complete detector .svmodel to start from.</summary>
    public string? Weights { get; init; }
    /// <summary>Input side (multiple of 32).</summary>
    public int ImgSize { get; init; } = 416;
    /// <summary>Epochs (plain training).</summary>
    public int Epochs { get; init; } = 50;
    /// <summary>Two-stage schedule: E1 epochs with the backbone frozen, then E2 with every layer at a tenth of the rate.</summary>
    public (int Frozen, int All)? FineTune { get; init; }
    /// <summary>Batch size.</summary>
    public int Batch { get; init; } = 8;
    /// <summary>Adam learning rate.</summary>
    public double Lr { get; init; } = 1e-3;
    /// <summary>"none" or "cosine" over the epochs of each stage.</summary>
    public string Schedule { get; init; } = "none";
    /// <summary>Early-stopping patience on val_map50, or null.</summary>
    public int? Patience { get; init; }
    /// <summary>Augmentation; null = <see cref="BoxAugmentOptions.Recommended"/> (keras-yolo3's kind, milder, with mosaic 0.5).</summary>
    public BoxAugmentOptions? Augment { get; init; }
    /// <summary>
    /// Multi-scale training: each batch at a random side in [(1 - f) ImgSize, (1 + f) ImgSize] (stride multiples);
    /// 0 = off (<see cref="Training.Detection.DetectionTask.MultiScale"/>).
    /// </summary>
    public double MultiScale { get; init; }
    /// <summary>Seed.</summary>
    public int Seed { get; init; }
    /// <summary>Loader threads (null = chosen from the cores).</summary>
    public int? Workers { get; init; }
    /// <summary>auto, cpu, cuda or cuda:N.</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Run folder (null = runs/detect/expN).</summary>
    public string? Out { get; init; }
    /// <summary>Reuse an existing run folder.</summary>
    public bool ExistOk { get; init; }
    /// <summary>
    /// The training steps' arithmetic: <see cref="Training.Precision.Bf16"/> is bfloat16 mixed precision
    /// (<see cref="Training.MixedPrecision"/>; CPU with AVX512-BF16 or AMX-BF16). Validation (mAP) and saved models are float32.
    /// </summary>
    public Training.Precision Precision { get; init; }

    /// <summary>The epochs the run lasts: E1 + E2 with <see cref="FineTune"/>, else <see cref="Epochs"/>.</summary>
    public int TotalEpochs => FineTune is { } ft ? ft.Frozen + ft.All : Epochs;

    /// <summary>Checks the settings; errors name the property (<c>DetectorTrainOptions.FineTune must be ...</c>).</summary>
    public DetectorTrainOptions Validate()
    {
        if (FineTune is { } ft && (ft.Frozen < 0 || ft.All < 1))
            throw new InvalidOptionException(Name(nameof(FineTune)), "E1,E2 with whole numbers E1 >= 0, E2 >= 1", $"{ft.Frozen},{ft.All}");
        if (ImgSize < 32) throw new InvalidOptionException(Name(nameof(ImgSize)), "an integer >= 32", ImgSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Epochs < 1) throw new InvalidOptionException(Name(nameof(Epochs)), "an integer >= 1", Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Batch < 1) throw new InvalidOptionException(Name(nameof(Batch)), "an integer >= 1", Batch.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (MultiScale is < 0 or >= 1) throw new InvalidOptionException(Name(nameof(MultiScale)), "a fraction in [0, 1)", MultiScale.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Schedule is not ("none" or "cosine")) throw new InvalidOptionException(Name(nameof(Schedule)), "one of none, cosine", Schedule);
        if (Pretrained is { } source && !PretrainedWeights.Sources.Contains(source) && !File.Exists(source))
            throw new InvalidOptionException(Name(nameof(Pretrained)), $"{string.Join(", ", PretrainedWeights.Sources)} or an existing Darknet .weights file", $"{source} (not found)");
        Training.MixedPrecision.Require(Precision, Name(nameof(Precision)));
        return this;
    }

    /// <summary>"DetectorTrainOptions.Property": how errors name a setting (the CLI shows its flag instead).</summary>
    internal static string Name(string property) => $"{nameof(DetectorTrainOptions)}.{property}";
}
