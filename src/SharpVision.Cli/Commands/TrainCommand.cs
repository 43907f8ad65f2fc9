using System.Globalization;
using SharpVision.Api;
using SharpVision.Training;
using SharpVision.Training.Callbacks;

namespace SharpVision.Cli.Commands;

/// <summary><c>sharpvision train DATA ...</c>: reads the flags into <see cref="ClassifierTrainOptions"/> and calls <see cref="Classifier.Train"/>.</summary>
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
            string? device = a.String("--device");
            int? workers = a.IntOrNull("--workers", min: 0, max: 64);
            a.Finish();
            using var resumeProgress = new ProgressBar();
            PrintOutcome(Classifier.Resume(resumeRun, Events(resumeProgress), device, workers, Interrupts.Token));
            return 0;
        }
        var s = Read(a);
        a.Finish();
        using var progress = new ProgressBar();
        PrintOutcome(Classifier.Train(s.Data, s, Events(progress), Interrupts.Token));
        return 0;
    }

    /// <summary>The run's log lines on stdout and the console progress bar.</summary>
    internal static TrainEvents Events(ProgressBar progress) => new() { Message = m => Console.WriteLine(OptionFlags.Translate(m)), Callbacks = [progress] };

    /// <summary>The flags as options; the checks between settings are <see cref="ClassifierTrainOptions.Validate"/>'s.</summary>
    public static ClassifierTrainOptions Read(Arguments a)
    {
        string data = a.Positional("DATA");
        string? val = a.ExistingPath("--val");
        double? split = a.DoubleOrNull("--val-split", 0, 0.99);
        var fineTune = ParseFineTune(a.String("--fine-tune"));
        if (fineTune is not null && a.String("--epochs") is { } epochsText)
            throw new InvalidOptionException("--epochs", $"left out with --fine-tune (it runs {fineTune.Value.Frozen}+{fineTune.Value.Unfrozen} epochs)", epochsText);
        return new ClassifierTrainOptions
        {
            Data = data,
            Val = val,
            ValSplit = val is null ? split ?? 0.2 : split,
            Layout = a.Choice("--layout", "auto", "auto", "folders", "filenames", "csv"),
            LabelPattern = a.String("--label-pattern"),
            FilenameColumn = a.String("--filename-column", "filename"),
            LabelColumn = a.String("--label-column", "label"),
            Model = a.String("--model", "smallcnn"),
            ImgSize = a.Int("--img-size", 0, min: 8, max: 4096),
            Labels = a.Choice("--labels", "auto", "auto", "binary", "categorical"),
            Batch = a.Int("--batch", 32, min: 1),
            Epochs = fineTune is { } p ? p.Frozen + p.Unfrozen : a.Int("--epochs", 10, min: 1),
            Lr = a.Double("--lr", 1e-3, min: 1e-12, max: 10),
            Optimizer = a.Choice("--optimizer", "adam", [.. OptimizerFactory.Names]),
            Momentum = a.Double("--momentum", 0, 0, 1),
            Nesterov = a.Flag("--nesterov"),
            WeightDecay = a.Double("--weight-decay", 0, 0, 1),
            LabelSmoothing = a.Double("--label-smoothing", 0, 0, 0.99),
            ClassWeight = a.Choice("--class-weight", "none", "none", "balanced"),
            Augment = a.String("--augment"),
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
            Pretrained = a.String("--pretrained"),
            Weights = a.ExistingPath("--weights"),
            Freeze = a.String("--freeze"),
            FineTune = fineTune,
            UnfreezeTop = a.IntOrNull("--unfreeze-top", min: 1),
            CacheAugmented = a.IntOrNull("--cache-augmented", min: 1, max: 1000),
            FeatureCache = a.Choice("--feature-cache", "auto", "auto", "off"),
        };
    }

    /// <summary>"E1,E2" -> (E1, E2), both >= 1; null for null.</summary>
    public static (int Frozen, int Unfrozen)? ParseFineTune(string? text)
    {
        if (text is null) return null;
        var parts = text.Split(',');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int e1)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int e2) && e1 >= 1 && e2 >= 1)
            return (e1, e2);
        throw new InvalidOptionException("--fine-tune", "two epoch counts E1,E2 (each >= 1), e.g. 3,3", text);
    }

    internal static void PrintOutcome(TrainResult r)
    {
        var h = r.History;
        if (h.Count == 0) return;
        var last = h.Logs[^1];
        string metric = last.ContainsKey("val_accuracy") ? "val_accuracy" : "accuracy";
        var values = h.Get(metric);
        int bestIndex = Array.IndexOf(values, values.Max());
        if (!File.Exists(r.BestPath))
        {
            // Every epoch was NaN (diverged): ModelCheckpoint never saves such weights as the best ones.
            string monitor = last.ContainsKey("val_loss") ? "val_loss" : "loss";
            Console.WriteLine($"No best model saved: no epoch had a finite {monitor}; results in {r.RunDir}");
            return;
        }
        Console.WriteLine($"Best {metric} {values[bestIndex]:0.0000} at epoch {h.Epochs[bestIndex]}; results in {r.RunDir}");
    }
}
