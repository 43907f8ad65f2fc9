using System.Text.RegularExpressions;

namespace SharpVision.Cli;

/// <summary>
/// The library names a setting by its option record's property (<c>ClassifierTrainOptions.ValSplit must be ...</c>);
/// the command line shows the flag that fills it (<c>--val-split must be ...</c>).
/// </summary>
internal static partial class OptionFlags
{
    /// <summary>
    /// Names the library uses for settings: its option records, and for lower-level APIs the class that checks the
    /// value (<c>Devices.Device</c>, <c>Freezing.Freeze</c>). "Owner.Member" is translated only for these owners.
    /// </summary>
    private static readonly HashSet<string> Owners = new(StringComparer.Ordinal)
    {
        "ClassifierTrainOptions", "DetectorTrainOptions", "InferenceOptions", "ClassifierEvaluateOptions", "DetectOptions",
        "TrainOptions", "DataLoaderOptions", "DetectionLoaderOptions", "AugmentOptions",
        "Classifier", "Detector", "RunResume", "RunFolder", "Submission", "Freezing", "YoloModel", "ModelRegistry", "Devices",
        "ImageEncoder", "LrFinder", "FeatureExport", "FeatureCache", "DatasetSplit", "DatasetLayout", "FilenameLabelDataset",
        "ThreadPlan", "PretrainedWeights", "StepLR", "CosineLR", "OneCycleLR", "MonitorMode", "StepLogger", "Anchors",
        "ShapesDataset", "ExportOptions", "SummaryOptions", "DashboardOptions", "KerasYolo3Importer", "KerasSequentialImporter",
    };

    /// <summary>
    /// Names whose flag is not the kebab-case of the member; null = no flag sets it (the name is shown as is).
    /// </summary>
    private static readonly Dictionary<string, string?> Special = new(StringComparer.Ordinal)
    {
        ["ClassifierTrainOptions.Data"] = "DATA",
        ["DetectorTrainOptions.Data"] = "DATA",
        ["DetectOptions.Confidence"] = "--conf",
        ["Submission.Kind"] = "--submission",
        ["TrainOptions.LearningRate"] = "--lr",
        ["OneCycleLR.MaxLr"] = "--lr",
        ["DataLoaderOptions.BatchSize"] = "--batch",
        ["DetectionLoaderOptions.BatchSize"] = "--batch",
        ["TrainOptions.InitialEpoch"] = null,
        ["DataLoaderOptions.PrefetchBatches"] = null,
        ["StepLR.StepSize"] = null,
        ["MonitorMode.Mode"] = null,
        ["ImageEncoder.JpegQuality"] = null,
        ["DashboardOptions.RunsDir"] = "RUNS_DIR",
        ["DashboardOptions.PollInterval"] = null,
    };

    [GeneratedRegex(@"\b([A-Z][A-Za-z0-9]*)\.([A-Z][A-Za-z0-9]*)\b")]
    private static partial Regex Property();

    /// <summary>The flag for "Record.Property": <c>ValSplit</c> -> <c>--val-split</c>.</summary>
    public static string Flag(string recordProperty)
    {
        if (Special.TryGetValue(recordProperty, out var flag)) return flag ?? recordProperty;
        string property = recordProperty[(recordProperty.IndexOf('.') + 1)..];
        return "--" + string.Concat(property.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
    }

    /// <summary><paramref name="message"/> with every option-record property replaced by its flag.</summary>
    public static string Translate(string message) =>
        Property().Replace(message, m => Owners.Contains(m.Groups[1].Value) ? Flag(m.Value) : m.Value);
}
