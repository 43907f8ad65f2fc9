using SharpVision.Evaluation.Detection;
using SharpVision.Weights;
using SharpVision.Weights.Onnx;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision export MODEL --format onnx|pt|safetensors --out FILE</c>: the model for other ecosystems.</summary>
public static class ExportCommand
{
    public const string Help = """
        sharpvision export MODEL --format onnx|pt|safetensors [--out FILE]
          onnx         the network as an ONNX graph (opset 17, dynamic batch; outputs logits and probabilities;
                       classes and preprocessing in its metadata). Runs in ONNX Runtime; 'sharpvision predict FILE.onnx'.
          pt           the state_dict as a PyTorch file: torch.load + load_state_dict(strict=True) into the matching
                       torchvision model (resnet18/resnet34/resnet50/vgg16) or an equivalent PyTorch module.
          safetensors  the state_dict as safetensors.
          MODEL is a .svmodel file or a run folder; FILE defaults to MODEL's name with the format's extension.
          Detectors export as pt or safetensors (their state_dict); ONNX covers classifiers.
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("export", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string modelArg = a.Positional("MODEL");
        string format = a.Choice("--format", "onnx", "onnx", "pt", "safetensors");
        string? outPath = a.String("--out");
        a.Finish();

        string file = Runs.RunFolder.ResolveModelPath(modelArg);
        if (File.Exists(file) && ModelFile.ReadConfig(file) is { Task: "detection" } detection)
            return ExportDetector(file, detection, format, outPath ?? Path.ChangeExtension(file, format));

        var (config, model, path) = ModelLoading.Open(modelArg);
        outPath ??= Path.ChangeExtension(path, format);
        model.eval();
        switch (format)
        {
            case "onnx":
                OnnxExporter.Export(model, config, outPath);
                break;
            default:
                PyTorchWeights.Save(model, outPath);
                break;
        }
        Console.WriteLine($"Exported {path} ({config.Architecture}, {config.Classes.Count} classes) to {outPath} as {format}");
        return 0;
    }

    /// <summary>A detector's weights (Darknet layer names, as in the model file) as pt or safetensors; no ONNX graph for detectors yet.</summary>
    private static int ExportDetector(string file, ModelConfig config, string format, string outPath)
    {
        if (format == "onnx")
            throw new InvalidOptionException("--format", "pt or safetensors for a detector (the ONNX writer covers classifiers)", $"onnx ({file} is a {config.Architecture} detector)");
        using var detector = YoloDetector.Load(file);
        PyTorchWeights.Save(detector.Network, outPath);
        Console.WriteLine($"Exported {file} ({config.Architecture} detector, {config.Classes.Count} classes) to {outPath} as {format}");
        return 0;
    }
}
