using System.Text;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Weights;

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
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, a.IntOrNull("--workers", min: 0, max: 64));
        var device = Devices.Resolve(a.String("--device", "auto"));
        bool json = a.Flag("--json");
        a.Finish();
        if (File.Exists(outDir)) throw new InvalidOptionException("--out", "a folder", $"{outDir} (a file)");

        TorchSharp.torch.set_num_threads(plan.TorchThreads);
        var (config, model, path) = ModelLoading.Open(modelArg);
        var classes = config.Classes;
        var log = json ? Console.Error : Console.Out;

        // Read the set with its own labels, then map them to the model's classes: images the model cannot
        // know are then listed by path instead of vanishing inside the reader.
        var l = layout == "auto" ? DatasetLayouts.Detect(dataArg) : DatasetLayouts.Parse(layout);
        var aligned = ModelClassAlignment.Align(DatasetLayouts.Load(l, dataArg, pattern), classes);
        var data = aligned.Data;
        foreach (var w in data.Warnings) log.WriteLine($"warning: {w}");
        if (ModelClassAlignment.Describe(aligned.Unknown) is { } unknownLine) log.WriteLine($"warning: {unknownLine}");
        if (data.Count == 0)
            throw new DatasetException($"no image in {dataArg} has a label among the model's classes ({string.Join(", ", classes)}).");
        DatasetScan.Scan(data, forTraining: false);

        var result = ClassifierInference.Run(model, config.Preprocessing, data, batch, device, plan.Workers, cancellationToken: Interrupts.Token);
        foreach (var s in result.Skipped) log.WriteLine($"skipped {s.Message}");
        if (result.Samples.Count == 0)
            throw new DatasetException($"none of the {data.Count} images in {dataArg} could be read.");

        var summary = EvaluationSummary.Compute(result.Actual, result.Predicted, result.Probabilities, classes,
            topK, aligned.Unknown.Count, result.Skipped.Count);

        Directory.CreateDirectory(outDir);
        var extra = new Dictionary<string, string> { ["model"] = path, ["data"] = dataArg, ["out"] = outDir };
        string jsonText = summary.ToJson(extra);
        AtomicFile.WriteAllText(Path.Combine(outDir, "metrics.json"), summary.ToJson(extra, indented: true) + "\n");
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.txt"), ReportText(path, dataArg, summary, aligned.Unknown, result.Skipped));
        ConfusionMatrixPlot.Save(summary.Report.ConfusionMatrix, classes, Path.Combine(outDir, "confusion_matrix.png"));
        if (topLosses > 0)
        {
            var worst = TopLosses.Select(result.Samples.Select(s => s.Path).ToList(), result.Actual, result.Probabilities, result.Losses, topLosses);
            var tiles = worst.Select(t => new ImageFileTile(t.Path, t.Caption(classes), t.Wrong ? CaptionColor.Red : CaptionColor.Black)).ToList();
            ImageFileGrid.Save(tiles, Path.Combine(outDir, "top_losses.png"), columns: Math.Min(4, tiles.Count), tileSize: 160,
                title: "Top losses: predicted / actual / probability of actual");
        }

        if (json)
        {
            Console.WriteLine(jsonText);
            Console.Error.WriteLine($"Results saved to {outDir}");
        }
        else
        {
            Console.WriteLine($"Evaluated {path} on {data.Source ?? dataArg}");
            Console.WriteLine(summary.ToText(4));
            Console.WriteLine($"Results saved to {outDir}");
        }
        return 0;
    }

    private static string ReportText(string modelPath, string dataArg, EvaluationSummary summary,
        IReadOnlyList<UnknownLabel> unknown, IReadOnlyList<ImageDecodeException> skipped)
    {
        var sb = new StringBuilder();
        sb.Append($"model {modelPath}\ndata  {dataArg}\n\n");
        sb.Append(summary.ToText(4));
        if (unknown.Count > 0)
        {
            sb.Append($"\nNot evaluated, label not among the model's classes ({unknown.Count}):\n");
            foreach (var u in unknown) sb.Append($"  {u.Path}  (label '{u.Label}')\n");
        }
        if (skipped.Count > 0)
        {
            sb.Append($"\nUnreadable, skipped ({skipped.Count}):\n");
            foreach (var s in skipped) sb.Append($"  {s.Path}: {s.Reason}\n");
        }
        return sb.ToString();
    }
}
