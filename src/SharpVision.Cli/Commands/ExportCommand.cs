using System.CommandLine;
using SharpVision.Api;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision export MODEL --format onnx|pt|safetensors --out FILE [--weights W --classes C]</c>: maps the flags to <see cref="ExportOptions"/> for <see cref="SavedModel.Export"/>.</summary>
public static class ExportCommand
{
    private const string Description = """
        Export a model for other ecosystems: ONNX, a PyTorch state_dict or safetensors.
          onnx         the network as an ONNX graph (opset 17, dynamic batch), run by ONNX Runtime.
                       A classifier: outputs logits and probabilities [N, K]; classes and preprocessing in its metadata;
                       'sharpvision predict FILE.onnx'.
                       A detector (yolov3, yolov3-tiny*, yolov3-<resnet>, a Darknet cfg): input [N, 3, H, W] RGB 0..1,
                       letterboxed; outputs the decoded heads: boxes [N, P, 4] (centre x, y, width, height in input
                       pixels), objectness [N, P], class_scores [N, P, K] (class probabilities; score = objectness x
                       probability); rows P in Darknet's order (head, cell, anchor). Classes, input size, anchors and the
                       letterbox (sharpvision or darknet) in its metadata; 'sharpvision detect predict FILE.onnx'.
          pt           the state_dict as a PyTorch file: torch.load + load_state_dict(strict=True) into the matching
                       torchvision model (resnet18/resnet34/resnet50/vgg16) or an equivalent PyTorch module.
          safetensors  the state_dict as safetensors.
        A Darknet detector: `export yolov3-tiny.cfg --weights yolov3-tiny.weights --classes coco.names --format onnx`
        (it keeps Darknet's letterbox and box arithmetic, as 'detect predict' with the cfg does).
        """;

    public static Command Create()
    {
        var command = new Command("export", Description);
        var modelArg = Flags.Positional("MODEL", "a .svmodel file, a run folder (uses weights/best.svmodel) or a Darknet detector .cfg");
        var format = Flags.Choice("--format", "what to write", "onnx", "onnx", "pt", "safetensors");
        var outPath = Flags.Text("--out", "the file to write (default: MODEL's name with the format's extension)", "FILE");
        var weights = Flags.ExistingPath("--weights", "with a .cfg: its Darknet weights", "FILE.weights");
        var classes = Flags.ExistingPath("--classes", "with a .cfg: its class names, like coco.names", "FILE");
        command.Add(modelArg);
        command.Add(format);
        command.Add(outPath);
        command.Add(weights);
        command.Add(classes);
        command.SetAction(parse =>
        {
            var r = SavedModel.Export(parse.GetValue(modelArg)!, new ExportOptions
            {
                Format = parse.GetValue(format)!,
                Out = parse.GetValue(outPath),
                Weights = parse.GetValue(weights),
                Classes = parse.GetValue(classes),
            });
            string what = r.IsDetector ? $"{r.Architecture} detector, {r.Classes} classes" : $"{r.Architecture}, {r.Classes} classes";
            Console.WriteLine($"Exported {r.Source} ({what}) to {r.OutPath} as {r.Format}");
            return 0;
        });
        return command;
    }
}
