using System.Diagnostics;
using SharpVision.Augmentation;
using SharpVision.Data;
using SharpVision.Models;
using SharpVision.Training;
using SharpVision.Weights.Pretrained;
using TorchSharp;

namespace SharpVision.Bench;

/// <summary>
/// <c>dotnet run --project bench -c Release -- transfer [--scratch] [--epochs N] [--train N] [--val N] [--seed N] [--dir DIR]</c>:
/// on the real-photo two-class set (<see cref="PhotoSet"/>), the ImageNet ResNet-18 (resnet18-mlnet) with a frozen
/// backbone trains its head with and without the frozen-feature cache: seconds per epoch after the first, the
/// speed-up, and the head's accuracies (which must be equal: no augmentation). With <c>--scratch</c> the same network
/// is also trained from scratch (all layers, random init) with the same epochs and seed, for the transfer gain. <c>--seed</c>
/// (default 0) seeds the training (initial weights, shuffling) of every run; the photo set itself is always built with seed 0.
/// </summary>
public static class TransferBench
{
    public static int Run(string[] args)
    {
        int epochs = Option(args, "--epochs", 5), trainPerClass = Option(args, "--train", 80), valPerClass = Option(args, "--val", 50), seed = Option(args, "--seed", 0);
        bool scratch = args.Contains("--scratch");
        string dir = OptionText(args, "--dir") ?? Path.Combine(Path.GetTempPath(), "sharpvision-photoset");
        int threads = Math.Max(1, Environment.ProcessorCount);
        torch.set_num_threads(threads);

        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        var (trainDir, valDir) = PhotoSet.Build(dir, trainPerClass, valPerClass, size: 224, seed: 0);
        var train = FolderDataset.Load(trainDir);
        var val = FolderDataset.Load(valDir, train.Classes);
        var split = PhotoSet.Split();
        Console.WriteLine($"Photo set: {train.Count} train / {val.Count} val images of {string.Join(", ", train.Classes)} " +
                          $"(crops of {split.Sum(s => s.Train.Length)} train and {split.Sum(s => s.Val.Length)} val source photos, none in both), 224x224; {threads} libtorch threads");
        foreach (var (cls, trainPhotos, valPhotos) in split)
        {
            Console.WriteLine($"  {cls} train ({trainPhotos.Length}): {string.Join(", ", trainPhotos.Select(p => p.Name))}");
            Console.WriteLine($"  {cls} val   ({valPhotos.Length}): {string.Join(", ", valPhotos.Select(p => p.Name))}");
        }
        Console.WriteLine($"Recipe for every run: {epochs} epochs, adam lr 1e-3, batch 16, seed {seed}, 1 sigmoid output (binary cross-entropy), " +
                          "no on-the-fly augmentation (the set's random crops and flips are the augmentation)");

        var plain = Fit("frozen backbone, no cache", pretrained: true, cache: false, train, val, epochs, seed);
        var cached = Fit("frozen backbone, cached features", pretrained: true, cache: true, train, val, epochs, seed);
        double perEpochPlain = plain.Seconds.Skip(1).Average(), perEpochCached = cached.Seconds.Skip(1).Average();
        Console.WriteLine();
        Console.WriteLine($"Seconds per epoch after the first: {perEpochPlain:0.000} without the cache, {perEpochCached:0.0000} with it " +
                          $"(cache built once in {cached.CacheSeconds:0.0} s): speed-up {perEpochPlain / perEpochCached:0}x");
        bool same = plain.ValAccuracy.SequenceEqual(cached.ValAccuracy) && plain.Accuracy.SequenceEqual(cached.Accuracy);
        Console.WriteLine($"Head accuracy per epoch, val: uncached [{F(plain.ValAccuracy)}] cached [{F(cached.ValAccuracy)}]: {(same ? "identical" : "DIFFERENT")}");
        if (scratch)
        {
            var fromScratch = Fit("from scratch (random init, all layers trained)", pretrained: false, cache: false, train, val, epochs, seed);
            Console.WriteLine();
            Console.WriteLine($"Final val accuracy after {epochs} epochs (seed {seed}): pretrained frozen backbone {cached.ValAccuracy[^1]:P1}, " +
                              $"from scratch {fromScratch.ValAccuracy[^1]:P1}: {100 * (cached.ValAccuracy[^1] - fromScratch.ValAccuracy[^1]):0.0} points");
        }
        return 0;
    }

    private sealed record Outcome(double[] Seconds, double[] Accuracy, double[] ValAccuracy, double CacheSeconds);

    private static Outcome Fit(string name, bool pretrained, bool cache, ClassificationDataset train, ClassificationDataset val, int epochs, int seed)
    {
        Console.WriteLine();
        Console.WriteLine($"== resnet18-mlnet, {name}");
        torch.manual_seed(seed);
        var model = ModelRegistry.Create("resnet18-mlnet", new ModelOptions(1, 0));
        if (pretrained)
        {
            PretrainedWeights.Load(PretrainedWeights.ImageNet, model);
            Freezing.FreezeBackbone(model);
        }
        var pre = model.Info.Preprocessing;
        var trainLoader = new DataLoader(train, ImagePipeline.Create(pre, new Augmenter(new AugmentOptions())), pre,
            new DataLoaderOptions { BatchSize = 16, Seed = seed, Workers = 1 });
        var valLoader = new DataLoader(val, ImagePipeline.Create(pre), pre, new DataLoaderOptions { BatchSize = 16, Shuffle = false, Workers = 1 });
        var options = new TrainOptions { Epochs = epochs, LearningRate = 1e-3, StepsPerEpoch = trainLoader.BatchesPerEpoch };
        History history;
        double cacheSeconds = 0;
        if (cache)
        {
            var clock = Stopwatch.StartNew();
            using var trainCache = FeatureCache.Compute(model, trainLoader, 1);
            using var valCache = FeatureCache.Compute(model, valLoader, 1);
            cacheSeconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine($"Caching backbone features for {train.Count + val.Count} images took {cacheSeconds:0.0} s");
            history = new Trainer(options).Fit(new HeadModel(model), e => trainCache.Epoch(trainLoader, e), () => valCache.Epoch(valLoader, 0), [new Printer()]);
        }
        else
        {
            history = new Trainer(options).Fit(model, trainLoader.Epoch, () => valLoader.Epoch(0), [new Printer()]);
        }
        model.Dispose();
        return new Outcome(history.Get(LogNames.Seconds), history.Get(LogNames.Accuracy), history.Get(LogNames.ValAccuracy), cacheSeconds);
    }

    private sealed class Printer : SharpVision.Training.Callbacks.Callback
    {
        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs) =>
            Console.WriteLine($"epoch {epoch + 1}: {logs[LogNames.Seconds]:0.000} s, loss {logs[LogNames.Loss]:0.0000}, accuracy {logs[LogNames.Accuracy]:0.0000}, " +
                              $"val_loss {logs[LogNames.ValLoss]:0.0000}, val_accuracy {logs[LogNames.ValAccuracy]:0.0000}");
    }

    private static string F(double[] values) => string.Join(", ", values.Select(v => v.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture)));

    private static int Option(string[] args, string name, int fallback) =>
        OptionText(args, name) is { } v ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    private static string? OptionText(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
