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
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("export", argv);
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string modelArg = a.Positional("MODEL");
        string format = a.Choice("--format", "onnx", "onnx", "pt", "safetensors");
        string? outPath = a.String("--out");
        a.Finish();

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
}
