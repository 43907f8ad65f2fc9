using SharpVision.Api;
using SharpVision.Runs;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision evaluate MODEL DATA</c>: accuracy, loss, top-k accuracy and per-class metrics on a labelled
/// set, plus confusion_matrix.png, top_losses.png and report.txt in an output folder.
/// </summary>
public static class EvaluateCommand
{
    public const string Help = """
        sharpvision evaluate MODEL DATA [--layout auto|folders|filenames|csv] [--label-pattern REGEX]
                             [--out DIR] [--top-k K] [--top-losses N] [--batch N] [--workers N] [--device D] [--json]
          MODEL         a .svmodel file or a run folder (uses weights/best.svmodel)
          DATA          folder-per-class, flat folder of LABEL.*.jpg files, or a CSV (filename,label)
          --out         folder for report.txt, metrics.json, confusion_matrix.png, top_losses.png
                        (default runs/evaluate/expN)
          --top-k       k of the top-k accuracy (default 5, at most the number of classes)
          --top-losses  how many of the worst-predicted images top_losses.png shows (default 16; 0: none)
          --json        one JSON object on stdout: accuracy, loss, top_k_accuracy, per_class, confusion_matrix,
                        classes, unknown_labels, ... (messages go to stderr)
        Images whose label is not among the model's classes are not scored; they are counted and listed.
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("evaluate", argv, "--json");
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string modelArg = a.Positional("MODEL");
        string dataArg = a.Positional("DATA");
        string layout = a.Choice("--layout", "auto", "auto", "folders", "filenames", "csv");
        string? pattern = a.String("--label-pattern");
        string outDir = a.String("--out") ?? RunFolder.NextExperiment(Path.Combine("runs", "evaluate"));
        int topK = a.Int("--top-k", 5, min: 1);
        int topLosses = a.Int("--top-losses", 16, min: 0, max: 400);
        int batch = a.Int("--batch", 64, min: 1);
        int? workers = a.IntOrNull("--workers", min: 0, max: 64);
        string device = a.String("--device", "auto");
        bool json = a.Flag("--json");
        a.Finish();
        if (File.Exists(outDir)) throw new InvalidOptionException("--out", "a folder", $"{outDir} (a file)");

        using var model = Classifier.Load(modelArg, new InferenceOptions { Batch = batch, Device = device, Workers = workers });
        var log = json ? Console.Error : Console.Out;
        var evaluation = model.Evaluate(dataArg, new ClassifierEvaluateOptions { Layout = layout, LabelPattern = pattern, TopK = topK }, log.WriteLine, Interrupts.Token);
        var summary = evaluation.Summary;
        string path = evaluation.ModelPath;
        var extra = new Dictionary<string, string> { ["model"] = path, ["data"] = dataArg, ["out"] = outDir };
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
