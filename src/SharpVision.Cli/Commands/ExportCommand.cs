using System.CommandLine;
using SharpVision.Api;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision export MODEL --format onnx|pt|safetensors --out FILE</c>: maps the flags to <see cref="ExportOptions"/> for <see cref="SavedModel.Export"/>.</summary>
public static class ExportCommand
{
    private const string Description = """
        Export a model for other ecosystems: ONNX, a PyTorch state_dict or safetensors.
          onnx         the network as an ONNX graph (opset 17, dynamic batch; outputs logits and probabilities;
                       classes and preprocessing in its metadata). Runs in ONNX Runtime; 'sharpvision predict FILE.onnx'.
          pt           the state_dict as a PyTorch file: torch.load + load_state_dict(strict=True) into the matching
                       torchvision model (resnet18/resnet34/resnet50/vgg16) or an equivalent PyTorch module.
          safetensors  the state_dict as safetensors.
        Detectors export as pt or safetensors (their state_dict); ONNX covers classifiers.
        """;

    public static Command Create()
    {
        var command = new Command("export", Description);
        var modelArg = Flags.Positional("MODEL", "a .svmodel file or a run folder (uses weights/best.svmodel)");
        var format = Flags.Choice("--format", "what to write", "onnx", "onnx", "pt", "safetensors");
        var outPath = Flags.Text("--out", "the file to write (default: MODEL's name with the format's extension)", "FILE");
        command.Add(modelArg);
        command.Add(format);
        command.Add(outPath);
        command.SetAction(parse =>
        {
            var r = SavedModel.Export(parse.GetValue(modelArg)!, new ExportOptions { Format = parse.GetValue(format)!, Out = parse.GetValue(outPath) });
            string what = r.IsDetector ? $"{r.Architecture} detector, {r.Classes} classes" : $"{r.Architecture}, {r.Classes} classes";
            Console.WriteLine($"Exported {r.Source} ({what}) to {r.OutPath} as {r.Format}");
            return 0;
        });
        return command;
    }
}
