using System.Diagnostics;
using SharpVision.Data;
using SharpVision.Models;
using SharpVision.Training;
using SharpVision.Training.Callbacks;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Bench;

/// <summary>
/// <c>train</c>: smallcnn (150x150, binary, Adam, batch 32) trained with <see cref="Trainer.Fit"/> (a) from the JPEG
/// folder through <see cref="DataLoader"/> with the default <see cref="ThreadPlan"/>, and (b) from the very same
/// batches held in memory as tensors. Same model, same steps, same loop; a and b alternate after a warm-up and
/// the medians are compared. The ratio a/b says what the loader costs the trainer (goal &gt;= 0.93).
/// </summary>
public static class TrainBench
{
    private const int BatchSize = 32;

    public static int Run(BenchArgs args)
    {
        int count = args.Images ?? 500;
        int reps = Math.Max(1, args.Reps ?? 4);
        int steps = Math.Max(1, args.Steps ?? 12);
        int cores = Environment.ProcessorCount;
        var plan = ThreadPlan.Choose(cores, args.Workers);
        int torchThreads = args.TorchThreads ?? plan.TorchThreads;
        torch.set_num_threads(torchThreads);
        torch.manual_seed(args.Seed);

        string dir = PhotoFolder.Ensure(count, args.Seed, Console.Out);
        var dataset = FolderDataset.Load(dir);
        var pre = LoaderBench.Preprocessing;
        var pipeline = ImagePipeline.Create(pre, LoaderBench.Augmenter);
        var loaderOptions = new DataLoaderOptions
        {
            BatchSize = BatchSize, Seed = args.Seed, Workers = plan.Workers, StepsPerEpoch = steps,
            PrefetchBatches = args.Prefetch ?? new DataLoaderOptions().PrefetchBatches,
        };
        var loader = new DataLoader(dataset, pipeline, pre, loaderOptions);
        using var model = SmallCnn.Create(numClasses: 1, imageSize: LoaderBench.ImageSize);

        Console.WriteLine($"train: smallcnn {pre.Size}x{pre.Size} binary, adam, batch {BatchSize}, {steps} steps per measurement, " +
                          $"{reps} repetitions alternating file/memory after a warm-up; medians (machine shared: expect noise)");
        Console.WriteLine($"data: {dataset.Count} JPEGs {PhotoFolder.Width}x{PhotoFolder.Height} q{PhotoFolder.Quality} " +
                          $"(mean {PhotoFolder.MeanFileBytes(dir) / 1024:F0} KB), augment {LoaderBench.AugmentSpec}");
        Console.WriteLine($"load average before: {LoadAverage()}");
        Console.WriteLine($"thread plan on {cores} cores: {plan.Workers} loader worker(s) + {torchThreads} libtorch thread(s)" +
                          (args.Workers is null && args.TorchThreads is null ? " (default ThreadPlan)" : " (overridden)") +
                          $", prefetch {loaderOptions.PrefetchBatches} batches");

        // (b)'s batches: epoch 0 of the loader, materialised once, so both sources feed identical tensors.
        var memory = loader.Epoch(0).ToList();
        try
        {
            IEnumerable<Batch> FromMemory()
            {
                // Aliases: the trainer disposes every batch it is given, the stored tensors must survive.
                foreach (var b in memory) yield return new Batch(b.Images.alias(), b.Labels.alias(), []);
            }

            // Warm-up: JIT, libtorch's kernels and allocator, the page cache, Adam's first steps.
            Measure(model, () => loader.Epoch(0), Math.Min(steps, 3));
            Measure(model, FromMemory, Math.Min(steps, 3));

            var files = new List<Timing>();
            var inMemory = new List<Timing>();
            for (int rep = 0; rep < reps; rep++)
            {
                // Alternate which goes first, so a slow spell on the shared machine hits both sides alike.
                if (rep % 2 == 0)
                {
                    files.Add(Measure(model, () => loader.Epoch(0), steps));
                    inMemory.Add(Measure(model, FromMemory, steps));
                }
                else
                {
                    inMemory.Add(Measure(model, FromMemory, steps));
                    files.Add(Measure(model, () => loader.Epoch(0), steps));
                }
                Console.WriteLine($"  rep {rep + 1}: files {files[^1].ImagesPerSecond,6:F1} img/s, memory {inMemory[^1].ImagesPerSecond,6:F1} img/s, " +
                                  $"ratio {files[^1].ImagesPerSecond / inMemory[^1].ImagesPerSecond:F3}");
            }
            Print(files, inMemory);
            Console.WriteLine($"load average after: {LoadAverage()}");
        }
        finally
        {
            foreach (var b in memory) b.Dispose();
        }
        return 0;
    }

    /// <summary>One measurement: wall time of a whole Fit of one epoch, the time the trainer spent waiting in
    /// the batch source's MoveNext (for the loader: waiting for workers + copying floats into a tensor), and the
    /// process CPU time.</summary>
    private sealed record Timing(int Images, double Seconds, double WaitSeconds, double CpuSeconds)
    {
        public double ImagesPerSecond => Images / Seconds;
    }

    private static Timing Measure(nn.Module<Tensor, Tensor> model, Func<IEnumerable<Batch>> source, int steps)
    {
        var trainer = new Trainer(new TrainOptions { Epochs = 1, Optimizer = "adam", LearningRate = 1e-4, StepsPerEpoch = steps });
        var wait = new WaitClock();
        var counter = new ImageCounter();
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        // No validation: the bench compares training steps only.
        trainer.Fit(model, _ => wait.Wrap(source().Take(steps)), validation: null, callbacks: [counter]);
        double seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
        return new Timing(counter.Images, seconds, wait.Seconds, cpu);
    }

    private static void Print(List<Timing> files, List<Timing> memory)
    {
        double a = Stats.Median(files.Select(r => r.ImagesPerSecond).ToList());
        double b = Stats.Median(memory.Select(r => r.ImagesPerSecond).ToList());
        var paired = files.Zip(memory, (f, m) => f.ImagesPerSecond / m.ImagesPerSecond).ToList();
        Console.WriteLine();
        var table = new Table("source (smallcnn training)", "images/s", "min..max", "wait %", "CPU ms/img");
        void Row(string name, List<Timing> runs, double median) => table.Add(name, median.ToString("F1"),
            Stats.Range(runs.Select(r => r.ImagesPerSecond).ToList(), "F1"),
            (100 * Stats.Median(runs.Select(r => r.WaitSeconds / r.Seconds).ToList())).ToString("F1"),
            Stats.Median(runs.Select(r => 1000 * r.CpuSeconds / r.Images).ToList()).ToString("F1"));
        Row("(a) JPEG folder via DataLoader", files, a);
        Row("(b) same batches in memory", memory, b);
        table.Print(Console.Out);
        Console.WriteLine();
        Console.WriteLine($"ratio a/b of medians      {a / b:F3}   (goal >= 0.93)");
        Console.WriteLine($"median of per-rep ratios  {Stats.Median(paired):F3}   ({Stats.Range(paired, "F3")})");
        double cpuA = Stats.Median(files.Select(r => r.CpuSeconds / r.Images).ToList());
        double cpuB = Stats.Median(memory.Select(r => r.CpuSeconds / r.Images).ToList());
        Console.WriteLine($"CPU cost ratio b/a        {cpuB / cpuA:F3}   (CPU time per image; the ceiling a quiet machine can reach)");
        Console.WriteLine("wait % = share of the run the trainer spent inside the batch source's MoveNext.");
    }

    /// <summary>The 1, 5 and 15 minute load averages (Linux), to tell a quiet run from a contended one.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>Counts the images trained on (the trainer's own running total, logged after each step).</summary>
    private sealed class ImageCounter : Callback
    {
        public int Images { get; private set; }
        public override void OnBatchEnd(int step, IReadOnlyDictionary<string, double> logs) => Images = (int)logs[LogNames.Images];
    }

    /// <summary>Accumulates the time spent in MoveNext of a batch sequence.</summary>
    private sealed class WaitClock
    {
        private long _ticks;
        public double Seconds => _ticks / (double)Stopwatch.Frequency;

        public IEnumerable<Batch> Wrap(IEnumerable<Batch> batches)
        {
            using var e = batches.GetEnumerator();
            while (true)
            {
                long t0 = Stopwatch.GetTimestamp();
                bool more = e.MoveNext();
                _ticks += Stopwatch.GetTimestamp() - t0;
                if (!more) yield break;
                yield return e.Current;
            }
        }
    }
}
