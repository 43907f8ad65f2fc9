using System.Globalization;
using SharpVision.Augmentation;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using SharpVision.Weights;
using TorchSharp;

namespace SharpVision.Cli.Recipes;

/// <summary>What a finished training run reports back.</summary>
public sealed record TrainResult(string RunDir, History History, ModelConfig Config, string? StopReason);

/// <summary>
/// The classification recipe behind <c>sharpvision train</c>: files -> dataset -> loader -> model -> trainer -> run
/// folder. Kept outside the library (like torchvision's references/): it only wires library pieces together.
/// </summary>
public static class ClassificationRecipe
{
    public static TrainResult Train(TrainSettings s, TextWriter log)
    {
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, s.Workers);
        torch.set_num_threads(plan.TorchThreads);
        torch.manual_seed(s.Seed);
        var device = Devices.Resolve(s.Device);

        // Files -> dataset (+ validation).
        var (train, val) = LoadData(s, log);
        if (val is not null)
            log.WriteLine($"Validation: {val.Count} images" + (s.Val is null ? $" (stratified {s.ValSplit:0.##} of the data, seed {s.Seed})" : $" from {s.Val}"));

        bool binary = s.Labels switch
        {
            "binary" => train.Classes.Count == 2 ? true : throw new InvalidOptionException("--labels", "binary only with exactly 2 classes", $"binary ({train.Classes.Count} classes)"),
            "categorical" => false,
            _ => train.Classes.Count == 2,
        };
        int outputs = binary ? 1 : train.Classes.Count;

        // Model and its preprocessing.
        var model = ModelRegistry.Create(s.Model, new ModelOptions(outputs, s.ImgSize));
        var augment = s.Augment is null ? new AugmentOptions()
            : File.Exists(s.Augment) ? AugmentOptions.FromYamlFile(s.Augment) : AugmentOptions.Parse(s.Augment);
        var pre = model.Info.Preprocessing;
        if (augment.Rescale is { } rescale) pre = pre with { Scale = rescale };
        if (augment.Mean is { } mean) pre = pre with { Mean = mean };
        if (augment.Std is { } std) pre = pre with { Std = std };
        var config = new ModelConfig
        {
            Architecture = ModelRegistry.IsDefinitionFile(s.Model) ? "custom" : s.Model,
            Spec = model is SequentialModel seq && ModelRegistry.IsDefinitionFile(s.Model) ? ModelYaml.ToYaml(seq.Spec) : null,
            NumClasses = outputs,
            Classes = train.Classes,
            Preprocessing = pre,
        };
        log.WriteLine($"Model: {s.Model} ({CountParameters(model):N0} parameters), input {pre.Size}x{pre.Size}, " +
                      $"{(binary ? "binary (sigmoid)" : $"{outputs}-class softmax")}, device {device}, {plan.Workers} loader worker(s) + {plan.TorchThreads} libtorch thread(s)");

        // Dataset -> loaders.
        var decode = new DecodeOptions { MaxPixels = s.MaxPixels };
        var trainLoader = new DataLoader(train, ImagePipeline.Create(pre, new Augmenter(augment), decode), pre,
            new DataLoaderOptions { BatchSize = s.Batch, Seed = s.Seed, Workers = plan.Workers, StepsPerEpoch = s.StepsPerEpoch });
        var valLoader = val is null ? null : new DataLoader(val, ImagePipeline.Create(pre, null, decode), pre,
            new DataLoaderOptions { BatchSize = s.Batch, Shuffle = false, Seed = s.Seed, Workers = plan.Workers });

        // Run folder.
        string runDir = s.Out ?? RunFolder.NextExperiment(Path.Combine("runs", "train"));
        using var run = RunFolder.Open(runDir, existOk: s.ExistOk);
        AtomicFile.WriteAllText(run.ArgsYaml, ArgsYaml(s with { Out = run.Path }, augment));
        AtomicFile.WriteAllText(run.ClassesTxt, string.Join('\n', train.Classes) + "\n");
        log.WriteLine($"Run folder: {run.Path}");

        var options = new TrainOptions
        {
            Epochs = s.Epochs,
            Optimizer = s.Optimizer,
            LearningRate = s.Lr,
            Momentum = s.Momentum,
            Nesterov = s.Nesterov,
            WeightDecay = s.WeightDecay,
            LabelSmoothing = s.LabelSmoothing,
            ClassWeights = s.ClassWeight == "balanced" ? ClassWeights.Balanced(train) : null,
            TopK = s.TopK,
            Device = device,
            StepsPerEpoch = trainLoader.BatchesPerEpoch,
        };
        string monitor = val is null && s.Monitor.StartsWith("val_", StringComparison.Ordinal) ? s.Monitor[4..] : s.Monitor;
        void Save(string path, bool weightsOnly) => ModelFile.Save(path, model, config);
        var callbacks = new List<Callback>
        {
            new CsvLogger(run.ResultsCsv),
            new ModelCheckpoint(run.BestModel, Save, monitor: monitor, saveBestOnly: true),
            new ModelCheckpoint(run.LastModel, Save),
            new TerminateOnNaN(),
        };
        if (s.Patience is { } patience) callbacks.Add(new EarlyStopping(monitor: monitor, patience: patience, restoreBestWeights: true));
        if (s.ReduceLrPatience is { } rp) callbacks.Add(new ReduceLROnPlateau(monitor: monitor, factor: s.ReduceLrFactor, patience: rp));
        switch (s.Schedule)
        {
            case "step": callbacks.Add(new StepLR(Math.Max(1, s.Epochs / 3))); break;
            case "cosine": callbacks.Add(new CosineLR(s.Epochs)); break;
            case "onecycle": callbacks.Add(new OneCycleLR(s.Lr, trainLoader.BatchesPerEpoch, s.Epochs)); break;
        }
        callbacks.Add(new CurvesCallback(run.ResultsCsv, run.CurvesPng));
        using var progress = new ProgressBar();
        callbacks.Add(progress);

        var trainer = new Trainer(options);
        trainer.Warning += w => log.WriteLine($"warning: {w}");
        var history = trainer.Fit(model, trainLoader.Epoch, valLoader is null ? null : () => valLoader.Epoch(0), callbacks);
        ReportSkipped("training", trainLoader, log);
        if (valLoader is not null) ReportSkipped("validation", valLoader, log);
        if (history.StopReason is { } reason) log.WriteLine(reason);
        model.Dispose();
        return new TrainResult(run.Path, history, config, history.StopReason);
    }

    private static (ClassificationDataset Train, ClassificationDataset? Val) LoadData(TrainSettings s, TextWriter log)
    {
        var layout = s.Layout == "auto" ? DatasetLayouts.Detect(s.Data) : DatasetLayouts.Parse(s.Layout);
        var all = DatasetLayouts.Load(layout, s.Data, s.LabelPattern, s.FilenameColumn, s.LabelColumn);
        foreach (var w in all.Warnings) log.WriteLine($"warning: {w}");
        foreach (var line in DatasetScan.Scan(all).Lines()) log.WriteLine(line);
        if (s.Val is not null)
        {
            var valLayout = s.Layout == "auto" ? DatasetLayouts.Detect(s.Val) : layout;
            var val = DatasetLayouts.Load(valLayout, s.Val, s.LabelPattern, s.FilenameColumn, s.LabelColumn, all.Classes);
            foreach (var w in val.Warnings) log.WriteLine($"warning: {w}");
            return (all, val);
        }
        if (s.ValSplit is null or 0) return (all, null);
        return DatasetSplit.Stratified(all, s.ValSplit.Value, s.Seed);
    }

    private static void ReportSkipped(string what, DataLoader loader, TextWriter log)
    {
        var files = loader.SkippedFiles;
        if (files.Count == 0) return;
        log.WriteLine($"{files.Count} unreadable {what} image(s) were skipped ({loader.SkippedImages} skips over all epochs):");
        foreach (var (path, reason) in files.Take(20)) log.WriteLine($"  {path}: {reason}");
        if (files.Count > 20) log.WriteLine($"  ... and {files.Count - 20} more");
    }

    private static long CountParameters(torch.nn.Module model) => model.parameters().Sum(p => p.numel());

    private static string ArgsYaml(TrainSettings s, AugmentOptions augment)
    {
        var lines = new List<string>();
        foreach (var p in typeof(TrainSettings).GetProperties())
        {
            object? v = p.Name == nameof(TrainSettings.Augment) ? augment.ToSpec() : p.GetValue(s);
            string text = v switch
            {
                null => "null",
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => "'" + v.ToString()!.Replace("'", "''") + "'",
            };
            lines.Add($"{Snake(p.Name)}: {text}");
        }
        return string.Join('\n', lines) + "\n";
    }

    private static string Snake(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>Redraws curves.png from results.csv after every epoch, so a running run can be watched.</summary>
    private sealed class CurvesCallback(string resultsCsv, string png) : Callback
    {
        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
        {
            if (File.Exists(resultsCsv)) TrainingCurves.Save(resultsCsv, png);
        }
    }
}
