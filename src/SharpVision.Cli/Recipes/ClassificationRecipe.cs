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
using SharpVision.Weights.Pretrained;
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
    /// <summary>
    /// Trains from scratch (or from <see cref="TrainSettings.Pretrained"/> / <see cref="TrainSettings.Weights"/>), or,
    /// with <paramref name="resume"/>, continues the run in <see cref="TrainSettings.Out"/> from its last checkpoint:
    /// weights, optimizer state, epoch counter, learning rate, random state and callback counters.
    /// </summary>
    public static TrainResult Train(TrainSettings s, TextWriter log, bool resume = false)
    {
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, s.Workers);
        torch.set_num_threads(plan.TorchThreads);
        torch.manual_seed(s.Seed);
        var device = Devices.Resolve(s.Device);

        // Files -> dataset (+ validation).
        var (train, val) = LoadData(s, log);
        if (val is not null)
            log.WriteLine($"Validation: {val.Count} images" + (s.Val is null ? $" (stratified {s.ValSplit:0.##} of the data, seed {s.Seed})" : $" from {s.Val}"));

        // Run folder (locked while we write it).
        string runDir = s.Out ?? RunFolder.NextExperiment(Path.Combine("runs", "train"));
        using var run = RunFolder.Open(runDir, existOk: s.ExistOk, resume: resume);

        // Model, preprocessing and, on resume, the state to continue from.
        var augment = s.Augment is null ? new AugmentOptions()
            : File.Exists(s.Augment) ? AugmentOptions.FromYamlFile(s.Augment) : AugmentOptions.Parse(s.Augment);
        TrainingState? state = null;
        ImageClassifier model;
        ModelConfig config;
        if (resume)
        {
            if (!File.Exists(run.LastModel))
                throw new SharpVisionException($"--resume {runDir}: nothing to resume, {run.LastModel} does not exist (the run never finished an epoch).");
            var stateJson = ModelFile.ReadEntry(run.LastModel, TrainingState.Entry)
                ?? throw new SharpVisionException($"--resume {runDir}: {run.LastModel} holds no training state.");
            state = TrainingState.FromJson(stateJson, run.LastModel);
            if (state.StopTraining || state.EpochsCompleted >= s.Epochs)
            {
                log.WriteLine($"{runDir} already finished ({state.EpochsCompleted} of {s.Epochs} epochs{(state.StopReason is null ? "" : "; " + state.StopReason)}). Nothing to resume.");
                return new TrainResult(run.Path, new History(), ModelFile.ReadConfig(run.LastModel), state.StopReason);
            }
            (config, model) = ModelFile.Load(run.LastModel);
            if (!config.Classes.SequenceEqual(train.Classes))
                throw new SharpVisionException($"--resume {runDir}: the data's classes ({string.Join(", ", train.Classes)}) differ from the run's ({string.Join(", ", config.Classes)}).");
            log.WriteLine($"Resuming {runDir} after epoch {state.EpochsCompleted} of {s.Epochs} (learning rate {state.LearningRate:G4}).");
        }
        else
        {
            (model, config) = CreateModel(s, train, augment, log);
            AtomicFile.WriteAllText(run.ArgsYaml, TrainSettingsYaml.Write(s with { Out = run.Path, Augment = NullIfEmpty(augment.ToSpec()) }));
            AtomicFile.WriteAllText(run.ClassesTxt, string.Join('\n', train.Classes) + "\n");
        }
        var pre = config.Preprocessing;
        bool binary = config.NumClasses == 1;
        log.WriteLine($"Model: {config.Architecture} ({CountParameters(model):N0} parameters), input {pre.Size}x{pre.Size}, " +
                      $"{(binary ? "binary (sigmoid)" : $"{config.NumClasses}-class softmax")}, device {device}, {plan.Workers} loader worker(s) + {plan.TorchThreads} libtorch thread(s)");
        log.WriteLine($"Run folder: {run.Path}");

        // Dataset -> loaders.
        var decode = new DecodeOptions { MaxPixels = s.MaxPixels };
        var trainLoader = new DataLoader(train, ImagePipeline.Create(pre, new Augmenter(augment), decode), pre,
            new DataLoaderOptions { BatchSize = s.Batch, Seed = s.Seed, Workers = plan.Workers, StepsPerEpoch = s.StepsPerEpoch });
        var valLoader = val is null ? null : new DataLoader(val, ImagePipeline.Create(pre, null, decode), pre,
            new DataLoaderOptions { BatchSize = s.Batch, Shuffle = false, Seed = s.Seed, Workers = plan.Workers });

        // Trainer, optimizer (built here so a resumed run can load its state into it) and callbacks.
        var options = new TrainOptions
        {
            Epochs = s.Epochs,
            InitialEpoch = state?.EpochsCompleted ?? 0,
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
        model.to(device);
        using var optimizer = OptimizerFactory.Create(s.Optimizer, model.parameters().Where(p => p.requires_grad),
            s.Lr, s.Momentum, s.Nesterov, s.WeightDecay);
        var trainer = new Trainer(options);
        trainer.Warning += w => log.WriteLine($"warning: {w}");

        string monitor = val is null && s.Monitor.StartsWith("val_", StringComparison.Ordinal) ? s.Monitor[4..] : s.Monitor;
        if (resume) TruncateRows(run.ResultsCsv, state!.EpochsCompleted);
        var named = new Dictionary<string, Callback>
        {
            ["best_checkpoint"] = new ModelCheckpoint(run.BestModel, (path, _) => ModelFile.Save(path, model, config), monitor: monitor, saveBestOnly: true),
        };
        EarlyStopping? early = null;
        if (s.Patience is { } patience) named["early_stopping"] = early = new EarlyStopping(monitor: monitor, patience: patience, restoreBestWeights: true);
        if (s.ReduceLrPatience is { } rp) named["reduce_lr"] = new ReduceLROnPlateau(monitor: monitor, factor: s.ReduceLrFactor, patience: rp);

        var callbacks = new List<Callback> { new CsvLogger(run.ResultsCsv, append: resume), new TerminateOnNaN() };
        callbacks.AddRange(named.Values);
        switch (s.Schedule)
        {
            // The base rate is the configured one, not the optimizer's current rate (which a resume restores).
            case "step": callbacks.Add(new StepLR(Math.Max(1, s.Epochs / 3), baseLr: s.Lr)); break;
            case "cosine": callbacks.Add(new CosineLR(s.Epochs, baseLr: s.Lr)); break;
            case "onecycle": callbacks.Add(new OneCycleLR(s.Lr, trainLoader.BatchesPerEpoch, s.Epochs)); break;
        }
        string stepsCsv = Path.Combine(run.Path, "steps.csv");
        if (s.LogEvery is { } every)
        {
            if (resume) TruncateRows(stepsCsv, state!.EpochsCompleted);
            callbacks.Add(new StepLogger(stepsCsv, every, append: resume));
        }
        callbacks.Add(new CurvesCallback(run.ResultsCsv, run.CurvesPng));
        // Last: the resumable checkpoint, taken after every other callback has updated its counters and the rate.
        callbacks.Add(new ModelCheckpoint(run.LastModel, (path, _) => ModelFile.Save(path, model, config, new Dictionary<string, byte[]>
        {
            [TrainingState.Entry] = TrainingState.Capture(trainer, named).ToJson(),
            [TrainingState.OptimizerEntry] = TrainingState.SaveOptimizer(optimizer),
        })));
        using var progress = new ProgressBar();
        callbacks.Add(progress);

        if (state is not null)
        {
            var optimizerState = ModelFile.ReadEntry(run.LastModel, TrainingState.OptimizerEntry)
                ?? throw new SharpVisionException($"--resume {runDir}: {run.LastModel} holds no optimizer state.");
            TrainingState.LoadOptimizer(optimizer, optimizerState);
            OptimizerFactory.SetLearningRate(optimizer, state.LearningRate);
            if (early is not null && File.Exists(run.BestModel))
                early.SetBestWeights(ReadWeights(run.BestModel));
            // Last: building networks above draws from libtorch's generator; the restored state must be what
            // the next epoch's dropout sees, as in the uninterrupted run.
            state.Restore(named);
        }

        var history = trainer.Fit(model, trainLoader.Epoch, valLoader is null ? null : () => valLoader.Epoch(0), callbacks, optimizer);
        ReportSkipped("training", trainLoader, log);
        if (valLoader is not null) ReportSkipped("validation", valLoader, log);
        if (history.StopReason is { } reason) log.WriteLine(reason);
        model.Dispose();
        return new TrainResult(run.Path, history, config, history.StopReason);
    }

    /// <summary>The network for a new run: registered/YAML architecture, optional pretrained backbone or full weights.</summary>
    private static (ImageClassifier Model, ModelConfig Config) CreateModel(TrainSettings s, ClassificationDataset train, AugmentOptions augment, TextWriter log)
    {
        bool binary = s.Labels switch
        {
            "binary" => train.Classes.Count == 2 ? true : throw new InvalidOptionException("--labels", "binary only with exactly 2 classes", $"binary ({train.Classes.Count} classes)"),
            "categorical" => false,
            _ => train.Classes.Count == 2,
        };
        int outputs = binary ? 1 : train.Classes.Count;
        string architecture = s.Model;
        ImageClassifier model;
        if (s.Pretrained is { } source)
        {
            architecture = PretrainedWeights.ArchitectureFor(s.Model, source);
            if (architecture != s.Model)
                log.WriteLine($"--pretrained {source}: using {architecture}, the {s.Model} whose ImageNet weights ship with SharpVision (NuGet), with a new {outputs}-output head.");
            model = ModelRegistry.Create(architecture, new ModelOptions(outputs, s.ImgSize));
            PretrainedWeights.Load(source, model);
        }
        else
        {
            model = ModelRegistry.Create(s.Model, new ModelOptions(outputs, s.ImgSize));
        }
        var pre = model.Info.Preprocessing;
        if (augment.Rescale is { } rescale) pre = pre with { Scale = rescale };
        if (augment.Mean is { } mean) pre = pre with { Mean = mean };
        if (augment.Std is { } std) pre = pre with { Std = std };
        bool custom = ModelRegistry.IsDefinitionFile(s.Model);
        var config = new ModelConfig
        {
            Architecture = custom ? "custom" : architecture,
            Spec = custom && model is SequentialModel seq ? ModelYaml.ToYaml(seq.Spec) : null,
            NumClasses = outputs,
            Classes = train.Classes,
            Preprocessing = pre,
        };
        if (s.Weights is { } stateDict && !stateDict.EndsWith(ModelFile.Extension, StringComparison.OrdinalIgnoreCase))
        {
            // A PyTorch / safetensors state dict: every key, same shapes (torchvision's names).
            PyTorchWeights.LoadStrict(model, stateDict);
            log.WriteLine($"Loaded every weight from {stateDict}.");
        }
        else if (s.Weights is { } weights)
        {
            var (loadedConfig, loaded) = ModelFile.Load(weights);
            if (loadedConfig.Architecture != config.Architecture || loadedConfig.NumClasses != config.NumClasses)
                throw new ModelFileException($"--weights {weights} is a {loadedConfig.Architecture} with {loadedConfig.NumClasses} output(s); this run builds a {config.Architecture} with {config.NumClasses}.");
            StateDicts.LoadStrict(model, loaded.state_dict(), weights);
            loaded.Dispose();
            log.WriteLine($"Loaded every weight from {weights}.");
        }
        return (model, config);
    }

    private static Dictionary<string, torch.Tensor> ReadWeights(string modelFile)
    {
        var (_, best) = ModelFile.Load(modelFile);
        var weights = StateDicts.CloneToCpu(best);
        best.Dispose();
        return weights;
    }

    /// <summary>
    /// Keeps the header and the rows of epochs 1..<paramref name="epochs"/>: a run killed after logging an epoch but
    /// before its checkpoint repeats that epoch, which must then appear once.
    /// </summary>
    private static void TruncateRows(string csv, int epochs)
    {
        if (!File.Exists(csv)) return;
        var lines = File.ReadAllLines(csv);
        if (lines.Length == 0) return;
        var kept = new List<string> { lines[0] };
        foreach (var line in lines.Skip(1))
        {
            int comma = line.IndexOf(',');
            if (comma > 0 && int.TryParse(line.AsSpan(0, comma), NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch) && epoch <= epochs)
                kept.Add(line);
        }
        AtomicFile.WriteAllText(csv, string.Join('\n', kept) + "\n");
    }

    private static string? NullIfEmpty(string v) => v.Length == 0 ? null : v;

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

    /// <summary>Redraws curves.png from results.csv after every epoch, so a running run can be watched.</summary>
    private sealed class CurvesCallback(string resultsCsv, string png) : Callback
    {
        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
        {
            if (File.Exists(resultsCsv)) TrainingCurves.Save(resultsCsv, png);
        }
    }
}
