using System.Text.Json;
using SharpVision.Data;
using SharpVision.Evaluation;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision evaluate MODEL DATA</c>: accuracy, loss and per-class metrics on a labelled set.</summary>
public static class EvaluateCommand
{
    public const string Help = """
        sharpvision evaluate MODEL DATA [--layout auto|folders|filenames|csv] [--label-pattern REGEX]
                             [--batch N] [--workers N] [--device D] [--json]
          MODEL   a .svmodel file or a run folder (uses weights/best.svmodel)
          --json  one JSON object on stdout: accuracy, loss, per_class, confusion_matrix, classes
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("evaluate", argv, "--json");
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string modelArg = a.Positional("MODEL");
        string dataArg = a.Positional("DATA");
        string layout = a.Choice("--layout", "auto", "auto", "folders", "filenames", "csv");
        string? pattern = a.String("--label-pattern");
        int batch = a.Int("--batch", 64, min: 1);
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, a.IntOrNull("--workers", min: 0, max: 64));
        var device = Devices.Resolve(a.String("--device", "auto"));
        bool json = a.Flag("--json");
        a.Finish();

        TorchSharp.torch.set_num_threads(plan.TorchThreads);
        var (config, model, path) = ModelLoading.Open(modelArg);
        var l = layout == "auto" ? DatasetLayouts.Detect(dataArg) : DatasetLayouts.Parse(layout);
        var data = DatasetLayouts.Load(l, dataArg, pattern, classes: config.Classes);
        var log = json ? Console.Error : Console.Out;
        foreach (var w in data.Warnings) log.WriteLine($"warning: {w}");
        DatasetScan.Scan(data, forTraining: false);

        var result = ClassifierInference.Run(model, config.Preprocessing, data, batch, device, plan.Workers);
        foreach (var s in result.Skipped) log.WriteLine($"skipped {s.Message}");
        int k = config.Classes.Count;
        var report = ClassificationReport.Compute(result.Actual, result.Predicted, k, config.Classes);
        double loss = result.Losses.Length == 0 ? double.NaN : result.Losses.Average();
        int topK = Math.Min(5, k);
        var scores = new float[result.Probabilities.Length, k];
        for (int i = 0; i < result.Probabilities.Length; i++)
            for (int c = 0; c < k; c++) scores[i, c] = result.Probabilities[i][c];
        double topKAccuracy = ClassificationReport.TopKAccuracy(scores, result.Actual, topK);

        if (json)
        {
            var perClass = report.PerClass.ToDictionary(m => m.Name, m => new { precision = m.Precision, recall = m.Recall, f1 = m.F1, support = m.Support });
            var matrix = Enumerable.Range(0, k).Select(r => Enumerable.Range(0, k).Select(c => report.ConfusionMatrix[r, c]).ToArray()).ToArray();
            var obj = new
            {
                model = path,
                images = result.Samples.Count,
                skipped = result.Skipped.Count,
                accuracy = report.Accuracy,
                loss,
                top_k = topK,
                top_k_accuracy = topKAccuracy,
                per_class = perClass,
                confusion_matrix = matrix,
                classes = config.Classes,
            };
            Console.WriteLine(JsonSerializer.Serialize(obj, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        }
        else
        {
            Console.WriteLine($"Evaluated {path} on {result.Samples.Count} images ({result.Skipped.Count} skipped)");
            Console.WriteLine($"accuracy {report.Accuracy:0.0000}  loss {loss:0.0000}  top-{topK} accuracy {topKAccuracy:0.0000}");
            Console.WriteLine();
            Console.WriteLine(report.ToText(4));
        }
        return 0;
    }
}
