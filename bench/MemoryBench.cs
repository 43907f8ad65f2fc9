using SharpVision.Data;
using SharpVision.Models;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using SharpVision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Bench;

/// <summary>
/// <c>memory</c>: a real fit (JPEG folder, augmentation, a validation split, checkpoint + reduce-lr + early stopping
/// that cannot trigger, CSV log) for <c>--epochs</c> epochs (default 20), printing after each epoch the process
/// resident memory (VmRSS), TorchSharp's count of live tensors and the managed heap; then the RSS growth from epoch
/// 2 to the last (goal &lt; 5 %). Epoch 1 is the baseline's warm-up: libtorch's allocator, Adam's state and the
/// JIT all settle there.
/// </summary>
public static class MemoryBench
{
    public static int Run(string[] rawArgs)
    {
        var rest = new List<string>(rawArgs);
        int epochs = int.Parse(BenchArgs.Take(rest, "--epochs") ?? "20", System.Globalization.CultureInfo.InvariantCulture);
        string modelName = BenchArgs.Take(rest, "--model") ?? MiniCnn.Name;
        var args = BenchArgs.Parse(rest.ToArray());
        int count = args.Images ?? 200;
        int size = modelName == SmallCnn.Name ? SmallCnn.DefaultImageSize : 64;
        const int batchSize = 32;
        var plan = ThreadPlan.Choose(Environment.ProcessorCount, args.Workers);
        torch.set_num_threads(args.TorchThreads ?? plan.TorchThreads);
        torch.manual_seed(args.Seed);

        string dir = PhotoFolder.Ensure(count, args.Seed, Console.Out);
        var (train, val) = DatasetSplit.Stratified(FolderDataset.Load(dir), 0.2, args.Seed);
        var pre = new Imaging.Preprocessing { Size = size };
        var trainLoader = new DataLoader(train, ImagePipeline.Create(pre, LoaderBench.Augmenter), pre,
            new DataLoaderOptions { BatchSize = batchSize, Seed = args.Seed, Workers = plan.Workers });
        var valLoader = new DataLoader(val, ImagePipeline.Create(pre), pre,
            new DataLoaderOptions { BatchSize = batchSize, Shuffle = false, Workers = plan.Workers });
        using var model = modelName == SmallCnn.Name
            ? SmallCnn.Create(numClasses: 1, imageSize: size)
            : MiniCnn.Create(numClasses: 2, imageSize: size);
        var config = new ModelConfig
        {
            Architecture = modelName, NumClasses = modelName == SmallCnn.Name ? 1 : 2, Classes = train.Classes, Preprocessing = pre,
        };

        string scratch = Path.Combine(Path.GetTempPath(), $"sharpvision-memory-{Environment.ProcessId}");
        Directory.CreateDirectory(scratch);
        Console.WriteLine($"memory: {modelName} {size}x{size}, {train.Count} train / {val.Count} val JPEGs, augment {LoaderBench.AugmentSpec}, " +
                          $"batch {batchSize}, adam, {epochs} epochs; {plan.Workers} worker(s), {torch.get_num_threads()} torch thread(s)");
        Console.WriteLine("callbacks: ModelCheckpoint (every epoch) + ModelCheckpoint (best only), ReduceLROnPlateau (patience 2), " +
                          $"EarlyStopping (patience {epochs}: never stops, restore best weights), CsvLogger");
        Console.WriteLine($"load average: {TrainBench.LoadAverage()}");
        var probe = new Probe();
        using var early = new EarlyStopping(patience: epochs, restoreBestWeights: true);
        try
        {
            var callbacks = new List<Callback>
            {
                new ModelCheckpoint(Path.Combine(scratch, "last.svmodel"), (path, _) => ModelFile.Save(path, model, config)),
                new ModelCheckpoint(Path.Combine(scratch, "best.svmodel"), (path, _) => ModelFile.Save(path, model, config), saveBestOnly: true),
                new ReduceLROnPlateau(patience: 2, factor: 0.5),
                early,
                new CsvLogger(Path.Combine(scratch, "log.csv")),
                probe,
            };
            var trainer = new Trainer(new TrainOptions { Epochs = epochs, Optimizer = "adam", LearningRate = 1e-3 });
            Console.WriteLine();
            Console.WriteLine("epoch   RSS MB   live tensors   managed MB   val_loss      lr   seconds");
            probe.Print = (epoch, s, logs) => Console.WriteLine(
                $"{epoch,5}  {s.RssMb,7:F1}  {s.Tensors,13}  {s.ManagedMb,11:F1}  {Log(logs, "val_loss"),9:F4}  {Log(logs, "lr"),6:G3}  {Log(logs, "seconds"),8:F1}");
            trainer.Fit(model, trainLoader.Epoch, () => valLoader.Epoch(0), callbacks);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }

        var samples = probe.Samples;
        Console.WriteLine();
        if (samples.Count >= 2)
        {
            var from = samples[Math.Min(1, samples.Count - 1)];
            var to = samples[^1];
            double growth = 100 * (to.RssMb - from.RssMb) / from.RssMb;
            Console.WriteLine($"RSS epoch 2 -> {samples.Count}: {from.RssMb:F1} -> {to.RssMb:F1} MB, growth {growth:+0.0;-0.0} %  (goal < 5 %){(growth < 5 ? "" : "  NOT MET")}");
            Console.WriteLine($"live tensors epoch 2 -> {samples.Count}: {from.Tensors} -> {to.Tensors}");
            Console.WriteLine($"peak RSS (VmHWM) {ProcSelf.StatusMb("VmHWM:"):F1} MB");
        }
        Console.WriteLine($"load average: {TrainBench.LoadAverage()}");
        return 0;
    }

    private static double Log(IDictionary<string, double> logs, string name) => logs.TryGetValue(name, out double v) ? v : double.NaN;


    private sealed record Sample(double RssMb, long Tensors, double ManagedMb);

    /// <summary>Records memory after each epoch, last in the callback list so every other callback has run.</summary>
    private sealed class Probe : Callback
    {
        public List<Sample> Samples { get; } = [];
        public Action<int, Sample, IDictionary<string, double>>? Print { get; set; }

        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
        {
            var s = new Sample(ProcSelf.StatusMb(), Tensor.TotalCount, GC.GetTotalMemory(forceFullCollection: false) / 1048576.0);
            Samples.Add(s);
            Print?.Invoke(epoch + 1, s, logs);
        }
    }
}
