using SharpVision.Cli.Recipes;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Runs;
using SharpVision.Weights;

namespace SharpVision.Cli.Commands;

/// <summary>
/// <c>sharpvision demo</c>: the whole workflow on the embedded handwritten digits: export them as PNG folders,
/// train minicnn on the training folder (20 % held out for validation), then evaluate the best checkpoint on the
/// untouched test folder and print its accuracy.
/// </summary>
public static class DemoCommand
{
    public const string Help = """
        sharpvision demo [--out DIR] [--epochs N] [--seed N] [--device D]
          Exports the embedded digits to DIR/digits, trains minicnn into DIR/train, prints the test accuracy.
          DIR defaults to runs/demo/expN.
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("demo", argv, "--exist-ok");
        if (a.Help) { Console.WriteLine(Help); return 0; }
        string dir = a.String("--out") ?? RunFolder.NextExperiment(Path.Combine("runs", "demo"));
        int epochs = a.Int("--epochs", 12, min: 1);
        int seed = a.Int("--seed", 0);
        string device = a.String("--device", "auto");
        bool existOk = a.Flag("--exist-ok");
        a.Finish();

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var export = Digits.Export(Path.Combine(dir, "digits"));
        Console.WriteLine($"Exported the embedded digits: {export.TrainCount} training and {export.TestCount} test images in {Path.Combine(dir, "digits")}");

        var settings = new TrainSettings
        {
            Data = export.TrainDir,
            ValSplit = 0.2,
            Model = "minicnn",
            ImgSize = 32,
            Batch = 64,
            Epochs = epochs,
            Lr = 3e-3,
            Optimizer = "adam",
            Schedule = "cosine",
            Augment = "rotation_range=8,width_shift_range=0.08,height_shift_range=0.08,zoom_range=0.08",
            Seed = seed,
            Device = device,
            Out = Path.Combine(dir, "train"),
            ExistOk = existOk,
        };
        var result = ClassificationRecipe.Train(settings, Console.Out);

        var (config, model) = ModelFile.Load(RunFolder.ResolveModelPath(result.RunDir));
        var test = FolderDataset.Load(export.TestDir, config.Classes);
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, null);
        var inference = ClassifierInference.Run(model, config.Preprocessing, test, 128, Devices.Resolve(device), plan.Workers);
        var report = ClassificationReport.Compute(inference.Actual, inference.Predicted, config.Classes.Count, config.Classes);
        Console.WriteLine();
        Console.WriteLine($"Test accuracy: {report.Accuracy:0.0000} on {inference.Samples.Count} held-out digits ({clock.Elapsed.TotalSeconds:0} s in all)");
        Console.WriteLine($"Run folder: {result.RunDir}");
        return 0;
    }
}
