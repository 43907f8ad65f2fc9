using System.CommandLine;
using SharpVision.Api;
using SharpVision.Runs;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision evaluate MODEL DATA</c>: accuracy, loss, top-k accuracy and per-class metrics on a labelled
/// set, plus confusion_matrix.png, top_losses.png and report.txt in an output folder.
/// </summary>
public static class EvaluateCommand
{
    private const string Description = """
        Score a classifier on a labelled set: accuracy, loss, top-k accuracy and per-class metrics.
        Writes report.txt, metrics.json, confusion_matrix.png and top_losses.png into --out. Images whose label is
        not among the model's classes are not scored; they are counted and listed.
        """;

    public static Command Create()
    {
        var command = new Command("evaluate", Description);
        var modelArg = Flags.Positional("MODEL", "a .svmodel file or a run folder (uses weights/best.svmodel)");
        var dataArg = Flags.Positional("DATA", "folder-per-class, flat folder of LABEL.*.jpg files, or a CSV (filename,label)");
        var layout = Flags.Choice("--layout", "how DATA is organised (auto: detected)", "auto", "auto", "folders", "filenames", "csv");
        var pattern = Flags.Text("--label-pattern", "filenames layout: regex with one group giving the label", "REGEX");
        var outDir = Flags.Text("--out", "folder for report.txt, metrics.json, confusion_matrix.png, top_losses.png (default runs/evaluate/expN)", "DIR");
        var topK = Flags.Int("--top-k", "k of the top-k accuracy (at most the number of classes)", 5, min: 1);
        var topLosses = Flags.Int("--top-losses", "how many of the worst-predicted images top_losses.png shows (0: none)", 16, 0, 400);
        var batch = Flags.Int("--batch", "images per forward pass", 64, min: 1);
        var workers = Flags.IntOrNull("--workers", "image-loading threads (default: planned from the cores)", 0, 64);
        var device = Flags.Text("--device", "auto, cpu, cuda or cuda:N", "auto", "D");
        var json = Flags.Switch("--json", "one JSON object on stdout: accuracy, loss, top_k_accuracy, per_class, confusion_matrix, classes, unknown_labels, ... (messages go to stderr)");
        command.Add(modelArg);
        command.Add(dataArg);
        foreach (var option in new Option[] { layout, pattern, outDir, topK, topLosses, batch, workers, device, json })
            command.Add(option);
        command.SetAction(parse => Run(parse.GetValue(modelArg)!, parse.GetValue(dataArg)!, parse.GetValue(layout)!, parse.GetValue(pattern),
            parse.GetValue(outDir) ?? RunFolder.NextExperiment(Path.Combine("runs", "evaluate")), parse.GetValue(topK), parse.GetValue(topLosses),
            new InferenceOptions { Batch = parse.GetValue(batch), Device = parse.GetValue(device)!, Workers = parse.GetValue(workers) }, parse.GetValue(json)));
        return command;
    }

    private static int Run(string modelArg, string dataArg, string layout, string? pattern, string outDir, int topK, int topLosses, InferenceOptions inference, bool json)
    {
        if (File.Exists(outDir)) throw new InvalidOptionException("--out", "a folder", $"{outDir} (a file)");

        using var model = Classifier.Load(modelArg, inference);
        var log = json ? Console.Error : Console.Out;
        var evaluation = model.Evaluate(dataArg, new ClassifierEvaluateOptions { Layout = layout, LabelPattern = pattern, TopK = topK }, log.WriteLine, Interrupts.Token);
        var summary = evaluation.Summary;
        string path = evaluation.ModelPath;
        // The model's absolute path: the dashboard links this evaluation to its run whatever folder it is started from.
        var extra = new Dictionary<string, string> { ["model"] = Path.GetFullPath(path), ["data"] = dataArg, ["out"] = outDir };
        string jsonText = summary.ToJson(extra);
        evaluation.Save(outDir, topLosses, extra);

        if (json)
        {
            Console.WriteLine(jsonText);
            Console.Error.WriteLine($"Results saved to {outDir}");
        }
        else
        {
            Console.WriteLine($"Evaluated {path} on {evaluation.Dataset.Source ?? dataArg}");
            Console.WriteLine(summary.ToText(4));
            Console.WriteLine($"Results saved to {outDir}");
        }
        return 0;
    }
}
