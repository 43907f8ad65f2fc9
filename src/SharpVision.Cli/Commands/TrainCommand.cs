using SharpVision.Cli.Recipes;
using SharpVision.Data;
using SharpVision.Training;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision train DATA ...</c>: reads the options into <see cref="TrainSettings"/> and runs the recipe.</summary>
public static class TrainCommand
{
    public const string Help = """
        sharpvision train DATA [options]
          DATA                      folder per class, folder of label.N.jpg files, or a CSV (filename,label)
          --layout auto|folders|filenames|csv   how DATA is organised (default auto: detected)
          --label-pattern REGEX     filenames layout: regex with one group giving the label
          --val DIR | --val-split F validation set, or a stratified fraction of DATA (default 0.2)
          --model NAME|FILE.yaml    smallcnn (default), minicnn, vgg16, resnet18, resnet34, resnet50, or a layer file
          --img-size N              input side (default: the model's)
          --labels auto|binary|categorical  (auto: binary for 2 classes)
          --batch N (32)  --epochs N (10)  --lr F (0.001)  --optimizer sgd|adam|adamw|rmsprop (adam)
          --momentum F  --nesterov  --weight-decay F  --label-smoothing F  --class-weight none|balanced
          --augment K=V,...|FILE.yaml   Keras ImageDataGenerator names, e.g. rotation_range=40,zoom_range=0.2,horizontal_flip=true
          --schedule none|step|cosine|onecycle   --monitor val_loss   --patience N (EarlyStopping)
          --reduce-lr-patience N  --reduce-lr-factor F (ReduceLROnPlateau)   --top-k K
          --seed N (0)  --workers N  --steps-per-epoch N  --device auto|cpu|cuda|cuda:N  --max-pixels N
          --out DIR (runs/train/expN)  --exist-ok  --log-every N (steps.csv)
          --pretrained imagenet|FILE.pth  ImageNet backbone shipped with SharpVision (resnet18), or a torchvision
                                    resnet18/resnet34/resnet50/vgg16 state dict (.pth/.pt/.bin/.safetensors): its head is
                                    dropped and a new one made; the preprocessing is ImageNet mean/std on 0..1 RGB
          --freeze N|backbone       freeze the first N layers (summary order) or everything but the head; frozen
                                    BatchNorm layers stay in inference mode
          --fine-tune E1,E2         E1 epochs with the backbone frozen, then E2 epochs unfrozen at half the rate with
                                    layer-group rates lr, lr/10, lr/100 (head first); results.csv gains phase, lr_backbone
          --unfreeze-top K          with --fine-tune: unfreeze only the last K blocks of the backbone in phase 2
          --cache-augmented K       frozen backbone + --augment: cache K augmented copies of each image's features
          --feature-cache auto|off  auto (default): with a frozen backbone and no augmentation, features are computed once
          --weights FILE.svmodel    start from a complete model (strict: same architecture and classes)
        sharpvision train --resume RUN [--device D] [--workers N]
          continue an interrupted run from RUN/weights/last.svmodel with its optimizer, epoch, learning rate,
          random state and callback counters
        Ctrl+C (or SIGTERM) stops training after the current step: completed epochs stay in results.csv and
        weights/, the current weights go to weights/interrupted.svmodel, and the command exits with 130 (143 for
        SIGTERM) after printing the --resume command. A second Ctrl+C quits at once.
        """;

    public static int Run(string[] argv)
    {
        var a = new Arguments("train", argv, "--exist-ok", "--nesterov");
        if (a.Help) { Console.WriteLine(Help); return 0; }
        if (a.String("--resume") is { } resumeRun)
        {
            // Everything comes from the run's args.yaml; only where it runs may change.
            var saved = TrainSettingsYaml.Read(Path.Combine(resumeRun, "args.yaml"));
            var resumed = saved with
            {
                Out = resumeRun,
                Device = a.String("--device", saved.Device),
                Workers = a.IntOrNull("--workers", min: 0, max: 64) ?? saved.Workers,
            };
            a.Finish();
            PrintOutcome(ClassificationRecipe.Train(resumed, Console.Out, resume: true, Interrupts.Token));
            return 0;
        }
        var s = Read(a);
        a.Finish();
        var result = ClassificationRecipe.Train(s, Console.Out, cancellationToken: Interrupts.Token);
        PrintOutcome(result);
        return 0;
    }

    public static TrainSettings Read(Arguments a)
    {
        string data = a.Positional("DATA");
        if (!File.Exists(data) && !Directory.Exists(data))
            throw new DatasetException($"DATA {data} does not exist (expected a folder or a CSV file).");
        string? val = a.ExistingPath("--val");
        double? split = a.DoubleOrNull("--val-split", 0, 0.99);
        if (val is not null && split is not null)
            throw new InvalidOptionException("--val-split", "left out when --val is given", split.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string model = a.String("--model", "smallcnn");
        string? freeze = a.String("--freeze");
        if (freeze is not null) Models.Freezing.ValidateSpec(freeze);
        string? fineTune = a.String("--fine-tune");
        var phases = ClassificationRecipe.ParseFineTune(fineTune);
        if (phases is not null && freeze is not null)
            throw new InvalidOptionException("--freeze", "left out with --fine-tune (phase 1 freezes the backbone)", freeze);
        if (phases is not null && a.String("--epochs") is { } epochsText)
            throw new InvalidOptionException("--epochs", $"left out with --fine-tune (it runs {phases.Value.Frozen}+{phases.Value.Unfrozen} epochs)", epochsText);
        int? unfreezeTop = a.IntOrNull("--unfreeze-top", min: 1);
        if (unfreezeTop is not null && phases is null)
            throw new InvalidOptionException("--unfreeze-top", "used with --fine-tune E1,E2", unfreezeTop.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        string? augment = a.String("--augment");
        string? pretrained = a.String("--pretrained");
        if (pretrained is not null) Weights.Pretrained.PretrainedWeights.ArchitectureFor(model, pretrained); // validates source and model
        int? cacheAugmented = a.IntOrNull("--cache-augmented", min: 1, max: 1000);
        if (cacheAugmented is not null && augment is null)
            throw new InvalidOptionException("--cache-augmented", "used with --augment (without augmentation one copy is cached automatically)", cacheAugmented.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (Models.ModelRegistry.IsDefinitionFile(model) && !File.Exists(model))
            throw new InvalidOptionException("--model", "a registered name or an existing .yaml file", $"{model} (not found)");
        if (!Models.ModelRegistry.IsDefinitionFile(model) && !Models.ModelRegistry.Contains(model))
            throw new InvalidOptionException("--model", "one of " + string.Join(", ", Models.ModelRegistry.Names) + " or a .yaml file", model);
        return new TrainSettings
        {
            Data = data,
            Val = val,
            ValSplit = val is null ? split ?? 0.2 : null,
            Layout = a.Choice("--layout", "auto", "auto", "folders", "filenames", "csv"),
            LabelPattern = a.String("--label-pattern"),
            FilenameColumn = a.String("--filename-column", "filename"),
            LabelColumn = a.String("--label-column", "label"),
            Model = model,
            ImgSize = a.Int("--img-size", 0, min: 8, max: 4096),
            Labels = a.Choice("--labels", "auto", "auto", "binary", "categorical"),
            Batch = a.Int("--batch", 32, min: 1),
            Epochs = phases is { } p ? p.Frozen + p.Unfrozen : a.Int("--epochs", 10, min: 1),
            Lr = a.Double("--lr", 1e-3, min: 1e-12, max: 10),
            Optimizer = a.Choice("--optimizer", "adam", [.. OptimizerFactory.Names]),
            Momentum = a.Double("--momentum", 0, 0, 1),
            Nesterov = a.Flag("--nesterov"),
            WeightDecay = a.Double("--weight-decay", 0, 0, 1),
            LabelSmoothing = a.Double("--label-smoothing", 0, 0, 0.99),
            ClassWeight = a.Choice("--class-weight", "none", "none", "balanced"),
            Augment = augment,
            Schedule = a.Choice("--schedule", "none", "none", "step", "cosine", "onecycle"),
            Monitor = a.Choice("--monitor", "val_loss", "val_loss", "val_accuracy", "loss", "accuracy"),
            Patience = a.IntOrNull("--patience", min: 0),
            ReduceLrPatience = a.IntOrNull("--reduce-lr-patience", min: 0),
            ReduceLrFactor = a.Double("--reduce-lr-factor", 0.1, 1e-6, 0.999999),
            TopK = a.Int("--top-k", 0, min: 0),
            Seed = a.Int("--seed", 0),
            Workers = a.IntOrNull("--workers", min: 0, max: 64),
            StepsPerEpoch = a.IntOrNull("--steps-per-epoch", min: 1),
            Device = a.String("--device", "auto"),
            Out = a.String("--out"),
            ExistOk = a.Flag("--exist-ok"),
            MaxPixels = a.Int("--max-pixels", (int)Imaging.DecodeOptions.DefaultMaxPixels, min: 1),
            LogEvery = a.IntOrNull("--log-every", min: 1),
            Pretrained = pretrained,
            Weights = a.ExistingPath("--weights"),
            Freeze = freeze,
            FineTune = fineTune,
            UnfreezeTop = unfreezeTop,
            CacheAugmented = cacheAugmented,
            FeatureCache = a.Choice("--feature-cache", "auto", "auto", "off"),
        };
    }

    internal static void PrintOutcome(TrainResult r)
    {
        var h = r.History;
        if (h.Count == 0) return;
        var last = h.Logs[^1];
        string metric = last.ContainsKey("val_accuracy") ? "val_accuracy" : "accuracy";
        var values = h.Get(metric);
        int bestIndex = Array.IndexOf(values, values.Max());
        if (!File.Exists(Path.Combine(r.RunDir, "weights", "best" + Weights.ModelFile.Extension)))
        {
            // Every epoch was NaN (diverged): ModelCheckpoint never saves such weights as the best ones.
            string monitor = last.ContainsKey("val_loss") ? "val_loss" : "loss";
            Console.WriteLine($"No best model saved: no epoch had a finite {monitor}; results in {r.RunDir}");
            return;
        }
        Console.WriteLine($"Best {metric} {values[bestIndex]:0.0000} at epoch {h.Epochs[bestIndex]}; results in {r.RunDir}");
    }
}
