using SharpVision.Evaluation.Detection;
using SharpVision.Models;
using SharpVision.Runs;
using SharpVision.Weights;
using SharpVision.Weights.Onnx;

namespace SharpVision.Api;

/// <summary>How <see cref="SavedModel.Export"/> writes a model.</summary>
public sealed record ExportOptions
{
    /// <summary>onnx (the graph, opset 17: a classifier's logits and probabilities, a detector's decoded boxes), pt (a PyTorch state_dict) or safetensors.</summary>
    public string Format { get; init; } = "onnx";
    /// <summary>The file to write (null: the model file's name with the format's extension).</summary>
    public string? Out { get; init; }
    /// <summary>With a Darknet <c>.cfg</c> as the model: its <c>.weights</c> file (required then, refused otherwise).</summary>
    public string? Weights { get; init; }
    /// <summary>With a Darknet <c>.cfg</c> as the model: its class names, one per line like <c>coco.names</c> (required then, refused otherwise).</summary>
    public string? Classes { get; init; }
}

/// <summary>What <see cref="SavedModel.Export"/> wrote.</summary>
public sealed record ExportResult(string Source, string OutPath, string Format, string Architecture, int Classes, bool IsDetector);

/// <summary>What <see cref="SavedModel.Summarize"/> shows: a saved model as is, or a new network of an architecture.</summary>
public sealed record SummaryOptions
{
    /// <summary>Input side of a new network (null: the architecture's); not for a saved model.</summary>
    public int? ImgSize { get; init; }
    /// <summary>Outputs of a new network (null: 1000); not for a saved model.</summary>
    public int? NumClasses { get; init; }
    /// <summary>Show the network as training with this freeze spec would train it (N or backbone; see <see cref="Freezing"/>).</summary>
    public string? Freeze { get; init; }
}

/// <summary>A classifier network read from a model file, with its config and the file it came from.</summary>
public sealed record SavedClassifier(ModelConfig Config, ImageClassifier Network, string Path) : IDisposable
{
    /// <inheritdoc/>
    public void Dispose() => Network.Dispose();
}

/// <summary>
/// Saved models as files: a .svmodel file or a run folder (its weights/best.svmodel). Opens the network itself (for
/// callers that look inside it), exports it for other ecosystems, and summarises it layer by layer. Inference goes
/// through <see cref="Classifier"/> and <see cref="Detector"/>.
/// </summary>
public static class SavedModel
{
    private static readonly string[] Formats = ["onnx", "pt", "safetensors"];

    /// <summary>The classifier network of a .svmodel file or a run folder.</summary>
    public static SavedClassifier OpenClassifier(string modelOrRun)
    {
        if (!File.Exists(modelOrRun) && !Directory.Exists(modelOrRun))
            throw new ModelFileException($"MODEL {modelOrRun} does not exist (expected a {ModelFile.Extension} file or a run folder).");
        string path = RunFolder.ResolveModelPath(modelOrRun);
        var (config, model) = ModelFile.Load(path);
        return new SavedClassifier(config, model, path);
    }

    /// <summary>
    /// Writes a classifier as an ONNX graph (opset 17; classes and preprocessing in its metadata) or its state_dict as a
    /// PyTorch file or safetensors; a detector (a detection run or .svmodel, or a Darknet .cfg with
    /// <see cref="ExportOptions.Weights"/> and <see cref="ExportOptions.Classes"/>) as an ONNX graph with decoded outputs
    /// (<see cref="OnnxDetectorExporter"/>) or its state_dict (pt or safetensors).
    /// </summary>
    public static ExportResult Export(string modelOrRun, ExportOptions? options = null)
    {
        options ??= new ExportOptions();
        if (!Formats.Contains(options.Format, StringComparer.Ordinal))
            throw new InvalidOptionException($"{nameof(ExportOptions)}.{nameof(ExportOptions.Format)}", "one of " + string.Join(", ", Formats), options.Format);
        bool cfg = modelOrRun.EndsWith(".cfg", StringComparison.OrdinalIgnoreCase);
        if (!cfg && (options.Weights ?? options.Classes) is not null)
            throw new InvalidOptionException($"{nameof(ExportOptions)}.{(options.Weights is not null ? nameof(ExportOptions.Weights) : nameof(ExportOptions.Classes))}",
                "given only with a Darknet .cfg model (a trained model holds its weights and classes)", $"{options.Weights ?? options.Classes} with {modelOrRun}");
        if (cfg)
        {
            if (options.Weights is null) throw new InvalidOptionException($"{nameof(ExportOptions)}.{nameof(ExportOptions.Weights)}", "the cfg's Darknet .weights file", "nothing");
            if (options.Classes is null) throw new InvalidOptionException($"{nameof(ExportOptions)}.{nameof(ExportOptions.Classes)}", "the cfg's class names file (like coco.names)", "nothing");
            string cfgOut = options.Out ?? Path.ChangeExtension(modelOrRun, options.Format);
            using var darknet = YoloDetector.LoadDarknet(modelOrRun, options.Weights, options.Classes);
            string name = Path.GetFileNameWithoutExtension(modelOrRun);
            if (options.Format == "onnx") OnnxDetectorExporter.Export(darknet.Network, name, darknet.ClassNames, cfgOut);
            else PyTorchWeights.Save(darknet.Network, cfgOut);
            return new ExportResult(modelOrRun, cfgOut, options.Format, name, darknet.ClassNames.Count, IsDetector: true);
        }
        string file = RunFolder.ResolveModelPath(modelOrRun);
        if (File.Exists(file) && ModelFile.ReadConfig(file) is { Task: "detection" } detection)
        {
            string detectorOut = options.Out ?? Path.ChangeExtension(file, options.Format);
            using var detector = YoloDetector.Load(file);
            if (options.Format == "onnx") OnnxDetectorExporter.Export(detector.Network, detection.Architecture, detector.ClassNames, detectorOut);
            else PyTorchWeights.Save(detector.Network, detectorOut);
            return new ExportResult(file, detectorOut, options.Format, detection.Architecture, detection.Classes.Count, IsDetector: true);
        }

        using var saved = OpenClassifier(modelOrRun);
        string outPath = options.Out ?? Path.ChangeExtension(saved.Path, options.Format);
        saved.Network.eval();
        if (options.Format == "onnx") OnnxExporter.Export(saved.Network, saved.Config, outPath);
        else PyTorchWeights.Save(saved.Network, outPath);
        return new ExportResult(saved.Path, outPath, options.Format, saved.Config.Architecture, saved.Config.Classes.Count, IsDetector: false);
    }

    /// <summary>
    /// The Keras-style layer table (with a Trainable column and the params footer) of a saved classifier, or of a new
    /// network of a registered architecture or a .yaml layer file.
    /// </summary>
    public static ModelSummary Summarize(string modelOrArchitecture, SummaryOptions? options = null)
    {
        options ??= new SummaryOptions();
        if (options.Freeze is not null) Freezing.ValidateSpec(options.Freeze);
        ImageClassifier model;
        if (Directory.Exists(modelOrArchitecture) || modelOrArchitecture.EndsWith(ModelFile.Extension, StringComparison.OrdinalIgnoreCase))
        {
            if (options.ImgSize is not null || options.NumClasses is not null)
                throw new SharpVisionException($"{nameof(SummaryOptions)}.{nameof(SummaryOptions.ImgSize)} and {nameof(SummaryOptions)}.{nameof(SummaryOptions.NumClasses)} apply to an architecture name, not to a trained model (it has its own).");
            model = OpenClassifier(modelOrArchitecture).Network;
        }
        else
        {
            if (ModelRegistry.IsDefinitionFile(modelOrArchitecture) && !File.Exists(modelOrArchitecture))
                throw new InvalidOptionException("MODEL|ARCH", "a registered name, an existing .yaml file, a .svmodel file or a run folder", $"{modelOrArchitecture} (not found)");
            model = ModelRegistry.Create(modelOrArchitecture, new ModelOptions(options.NumClasses ?? 1000, options.ImgSize ?? 0));
        }
        using (model)
        {
            if (options.Freeze is not null) Freezing.Apply(model, options.Freeze);
            var pre = model.Info.Preprocessing;
            return ModelSummary.Build(model, pre.Size, pre.Channels);
        }
    }
}
