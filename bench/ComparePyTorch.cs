using System.Diagnostics;
using SharpVision.Data;
using SharpVision.Models;
using SharpVision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Bench;

/// <summary>
/// <c>compare-pytorch</c>: SharpVision next to PyTorch (Debian's python3-torch, driven through
/// <c>bench/compare_pytorch.py</c>) on the same models, batch sizes, image sizes and thread counts, plus our
/// Trainer next to a bare TorchSharp loop. Each row warms both sides up once, then alternates them over
/// <c>--reps</c> repetitions (who goes first alternates too) and compares the medians. The Python process
/// waits on its stdin while our side runs, so the two never share the cores.
/// </summary>
public static class ComparePyTorch
{
    /// <summary>The rows in print order; <c>--rows a,b</c> picks some.</summary>
    public static readonly string[] RowNames =
        ["train-smallcnn", "train-resnet18", "infer-resnet18", "e2e", "loader-1", "loader-1-draft", "loader-all", "loader-all-draft", "overhead"];

    private const int SmallBatch = 32, ResNetTrainBatch = 16, ResNetInferBatch = 32, ResNetClasses = 1000;
    private const double AdamLr = 1e-4, SgdLr = 0.01, SgdMomentum = 0.9;

    /// <summary>One row; each side takes <c>warm</c> = true for its untimed warm-up run (fewer steps).</summary>
    private sealed record Row(string Name, string Label, string Theirs, double Goal, Func<bool, double> Ours, Func<bool, double> TheirSide, string Note);

    public static int Run(string[] rawArgs)
    {
        var rest = new List<string>(rawArgs);
        string python = BenchArgs.Take(rest, "--python") ?? "/usr/bin/python3";
        string? rowsOption = BenchArgs.Take(rest, "--rows");
        string? threadsOption = BenchArgs.Take(rest, "--threads");
        if (threadsOption is not null) rest.AddRange(["--torch-threads", threadsOption]);
        var args = BenchArgs.Parse(rest.ToArray());
        var rows = rowsOption?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? RowNames;
        foreach (var r in rows)
            if (Array.IndexOf(RowNames, r) < 0)
                throw new InvalidOptionException("--rows", $"a comma-separated list of {string.Join(", ", RowNames)}", r);

        int cores = Environment.ProcessorCount;
        int threads = Math.Max(1, args.TorchThreads ?? cores);
        int reps = Math.Max(1, args.Reps ?? 5);
        int images = args.Images ?? 500;
        int Steps(int fallback) => Math.Max(1, args.Steps ?? fallback);
        torch.set_num_threads(threads);
        torch.manual_seed(args.Seed);

        string script = FindScript("compare_pytorch.py");
        using var py = PyTorchWorker.Start(python, script);
        var init = py.Call(new { op = "init", threads });
        // PyTorch as users run it (above), and with the malloc settings SharpVision gives itself (NativeAllocator), so a
        // ratio never credits us with what is only glibc's configuration.
        using var pyTuned = PyTorchWorker.Start(python, script, TunedMalloc);
        pyTuned.Call(new { op = "init", threads });
        Console.WriteLine($"compare-pytorch: {reps} repetitions per row after one warm-up each, alternating sides (and who goes first); medians");
        Console.WriteLine($"ours:    TorchSharp {typeof(torch).Assembly.GetName().Version} (libtorch {torch.__version__}), {torch.get_num_threads()} torch thread(s)");
        Console.WriteLine($"PyTorch: torch {init["torch"]}, torchvision {init["torchvision"]}, {init["threads"]} thread(s), BLAS_INFO={init["blas"]}, mkldnn={init["mkldnn"]} ({python})");
        Console.WriteLine($"PyTorch (tuned malloc): the same, started with {string.Join(" ", TunedMalloc.Select(kv => $"{kv.Key}={kv.Value}"))}");
        Console.WriteLine($"ours' allocator: {SharpVision.Platform.NativeAllocator.Current?.Detail ?? "not decided"}");
        Console.WriteLine($"machine: {cores} logical cores, load average {TrainBench.LoadAverage()} at start");

        bool needsFolder = rows.Any(r => r == "e2e" || r.StartsWith("loader", StringComparison.Ordinal));
        string? dir = needsFolder ? PhotoFolder.Ensure(images, args.Seed, Console.Out) : null;
        if (dir is not null)
            Console.WriteLine($"JPEG folder: {images} images {PhotoFolder.Width}x{PhotoFolder.Height} q{PhotoFolder.Quality} " +
                              $"(mean {PhotoFolder.MeanFileBytes(dir) / 1024:F0} KB) -> {LoaderBench.ImageSize}x{LoaderBench.ImageSize}, augment {LoaderBench.AugmentSpec}; " +
                              $"our JPEG decoder: {LoaderBench.JpegDecoderName}");

        using var ours = new OurSide(args.Seed);
        var all = BuildRows(ours, py, dir, cores, Steps, args);
        var tunedSide = BuildRows(ours, pyTuned, dir, cores, Steps, args).ToDictionary(r => r.Name, r => r.TheirSide);
        CheckParameters(ours, py, rows);

        var table = new Table("row", "ours", "theirs", "ratio", "goal", "ok", "theirs tuned", "ratio tuned", "ours min..max", "theirs min..max", "ours faults/step", "load avg", "compared with");
        var notes = new List<string>();
        foreach (var row in all.Where(r => rows.Contains(r.Name)))
        {
            Console.WriteLine($"[{row.Name}] {row.Label} ...");
            // The overhead row compares two loops of ours: there is no PyTorch side to tune.
            var tuned = row.Name == "overhead" ? null : tunedSide[row.Name];
            row.Ours(true);        // warm-up: JIT, kernels, allocator, page cache, worker processes
            ours.FaultsPerStep.Clear();
            row.TheirSide(true);
            tuned?.Invoke(true);
            var a = new List<double>();
            var b = new List<double>();
            var c = new List<double>();
            for (int rep = 0; rep < reps; rep++)
            {
                if (rep % 2 == 0) { a.Add(row.Ours(false)); b.Add(row.TheirSide(false)); if (tuned is not null) c.Add(tuned(false)); }
                else { if (tuned is not null) c.Add(tuned(false)); b.Add(row.TheirSide(false)); a.Add(row.Ours(false)); }
                Console.WriteLine($"  rep {rep + 1}: ours {a[^1],7:F1}  theirs {b[^1],7:F1}  ratio {a[^1] / b[^1]:F3}"
                    + (tuned is null ? "" : $"  theirs tuned {c[^1],7:F1}  ratio {a[^1] / c[^1]:F3}"));
            }
            double ma = Stats.Median(a), mb = Stats.Median(b), ratio = ma / mb;
            string load = TrainBench.LoadAverage().Split(' ')[0];
            table.Add(row.Label, ma.ToString("F1"), mb.ToString("F1"), ratio.ToString("F2"), $">= {row.Goal:F2}",
                ratio >= row.Goal ? "yes" : "NO",
                c.Count == 0 ? "-" : Stats.Median(c).ToString("F1"), c.Count == 0 ? "-" : (ma / Stats.Median(c)).ToString("F2"),
                Stats.Spread(a, "F1"), Stats.Spread(b, "F1"),
                row.Name.StartsWith("train", StringComparison.Ordinal) && ours.FaultsPerStep.Count > 0 ? Stats.Median(ours.FaultsPerStep).ToString("F0") : "-",
                load, row.Theirs);
            if (row.Note.Length > 0) notes.Add($"{row.Label}: {row.Note}");
        }
        Console.WriteLine();
        Console.WriteLine("images/s, medians; ratio = ours / theirs");
        table.Print(Console.Out);
        Console.WriteLine();
        foreach (var n in notes) Console.WriteLine($"- {n}");
        Console.WriteLine($"load average at end: {TrainBench.LoadAverage()}");
        return 0;
    }

    /// <summary>The glibc variables equal to what <see cref="SharpVision.Platform.NativeAllocator"/> sets with mallopt.</summary>
    private static readonly Dictionary<string, string> TunedMalloc = new()
    {
        ["MALLOC_MMAP_THRESHOLD_"] = SharpVision.Platform.NativeAllocator.MmapThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["MALLOC_TRIM_THRESHOLD_"] = SharpVision.Platform.NativeAllocator.TrimThreshold.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["MALLOC_TOP_PAD_"] = SharpVision.Platform.NativeAllocator.TopPad.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static List<Row> BuildRows(OurSide ours, PyTorchWorker py, string? dir, int cores, Func<int, int> steps, BenchArgs args)
    {
        int size = LoaderBench.ImageSize;
        int smallSteps = steps(8), resSteps = steps(10), e2eSteps = steps(10), overheadSteps = steps(8);
        // The warm-up runs two steps: enough for the JIT, libtorch's kernels and the allocator.
        static int W(bool warm, int n) => warm ? Math.Min(n, 2) : n;
        var plan = ThreadPlan.Choose(cores, args.Workers);
        return
        [
            new("train-smallcnn", $"train smallcnn {size} b{SmallBatch} (memory)", "PyTorch loop", 1.0,
                w => ours.TrainFit("smallcnn", size, SmallBatch, 1, W(w, smallSteps), "adam", AdamLr),
                w => py.Rate(new { op = "train", model = "smallcnn", size, batch = SmallBatch, classes = 1, steps = W(w, smallSteps), optimizer = "adam", lr = AdamLr }),
                "adam, sigmoid+BCE; PyTorch's Linear layers (6272x512, 3.2 M of the 3.45 M weights) run on Debian's generic BLAS"),
            new("train-resnet18", $"train resnet18 224 b{ResNetTrainBatch} (memory)", "PyTorch loop", 1.0,
                w => ours.TrainFit("resnet18", 224, ResNetTrainBatch, ResNetClasses, W(w, resSteps), "sgd", SgdLr),
                w => py.Rate(new { op = "train", model = "resnet18", size = 224, batch = ResNetTrainBatch, classes = ResNetClasses, steps = W(w, resSteps), optimizer = "sgd", lr = SgdLr }),
                "SGD momentum 0.9, softmax CE over 1000 classes"),
            new("infer-resnet18", $"infer resnet18 224 b{ResNetInferBatch} (eval, no_grad)", "PyTorch no_grad", 1.2,
                w => ours.Infer(224, ResNetInferBatch, W(w, resSteps)),
                w => py.Rate(new { op = "infer", model = "resnet18", size = 224, batch = ResNetInferBatch, classes = ResNetClasses, steps = W(w, resSteps) }),
                "both: eval, no_grad, forward + softmax + probabilities copied out per batch (what predict does); no loss or accuracy"),
            new("e2e", $"JPEG->augment->train smallcnn b{SmallBatch}", $"PyTorch DataLoader nw={cores}", 1.5,
                w => ours.EndToEnd(dir!, SmallBatch, W(w, e2eSteps), plan.Workers, AdamLr),
                w => py.Rate(new { op = "e2e", dir, size, batch = SmallBatch, steps = W(w, e2eSteps), workers = cores, optimizer = "adam", lr = AdamLr }),
                $"ours: default ThreadPlan = {plan.Workers} decode worker(s) + {plan.TorchThreads} torch threads (bench uses {torch.get_num_threads()}); " +
                $"PyTorch: {cores} worker processes (persistent; each timed call ends its pass untimed, so no worker prefetches while our side runs) + {torch.get_num_threads()} torch threads; PIL decodes at full size, we decode at the JPEG DCT scale"),
            new("loader-1", "decode+resize+augment, 1 thread", "PyTorch DataLoader nw=0", 1.5,
                w => ours.Loader(dir!, SmallBatch, 0),
                w => py.Rate(new { op = "loader", dir, size, batch = SmallBatch, workers = 0, threads = 1 }),
                "one pass over the folder, batch 32, floats out, on one thread each: ours Workers=0 (decodes on the enumerating thread), " +
                "PyTorch num_workers=0 with 1 torch thread (with 2, ToTensor's OpenMP barriers cost it ~20 ms/image on a busy machine)"),
            new("loader-1-draft", "decode+resize+augment, 1 thread", "the same, PIL draft()", 1.0,
                w => ours.Loader(dir!, SmallBatch, 0),
                w => py.Rate(new { op = "loader", dir, size, batch = SmallBatch, workers = 0, threads = 1, draft = true }),
                "decoders like for like: PIL's draft() decodes at the JPEG DCT scale as ours does (the largest 1/2, 1/4, 1/8 reduction still >= the target)"),
            new("loader-all", $"decode+resize+augment, {cores} workers", $"PyTorch DataLoader nw={cores}", 1.5,
                w => ours.Loader(dir!, SmallBatch, cores),
                w => py.Rate(new { op = "loader", dir, size, batch = SmallBatch, workers = cores }),
                "a full pass each, so PyTorch's persistent workers are idle when our side is timed"),
            new("loader-all-draft", $"decode+resize+augment, {cores} workers", $"the same, PIL draft()", 1.0,
                w => ours.Loader(dir!, SmallBatch, cores),
                w => py.Rate(new { op = "loader", dir, size, batch = SmallBatch, workers = cores, draft = true }),
                ""),
            new("overhead", $"Trainer.Fit vs bare loop, smallcnn b{SmallBatch}", "bare TorchSharp loop", 0.97,
                w => ours.TrainFit("smallcnn-overhead", size, SmallBatch, 1, W(w, overheadSteps), "adam", AdamLr),
                w => ours.BareLoop("smallcnn-overhead", size, SmallBatch, W(w, overheadSteps), AdamLr),
                "same model object, same in-memory batches, Adam; the bare loop: scope, zero_grad, forward, BCE, backward, step, loss.item()"),
        ];
    }

    private static void CheckParameters(OurSide ours, PyTorchWorker py, string[] rows)
    {
        var checks = new List<(string Model, int Classes)>();
        if (rows.Any(r => r is "train-smallcnn" or "e2e" or "overhead")) checks.Add(("smallcnn", 1));
        if (rows.Any(r => r.EndsWith("resnet18", StringComparison.Ordinal))) checks.Add(("resnet18", ResNetClasses));
        foreach (var (model, classes) in checks)
        {
            long mine = ours.Parameters(model, classes);
            long theirs = py.Call(new { op = "params", model, classes })["params"]!.GetValue<long>();
            Console.WriteLine($"parameters {model} ({classes} output(s)): ours {mine:N0}, PyTorch {theirs:N0}{(mine == theirs ? "" : "  MISMATCH")}");
        }
    }


    /// <summary>bench/<paramref name="name"/> (a Python script of the benches), found next to the project whatever the working directory.</summary>
    public static string FindScript(string name)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                foreach (var candidate in new[] { Path.Combine(d.FullName, name), Path.Combine(d.FullName, "bench", name) })
                    if (File.Exists(candidate)) return candidate;
            }
        }
        throw new SharpVisionException($"bench/{name} not found (run from the repository)");
    }

    /// <summary>Our side: models and in-memory batches built once and reused by every repetition.</summary>
    private sealed class OurSide(int seed) : IDisposable
    {
        private readonly Dictionary<string, nn.Module<Tensor, Tensor>> _models = new();
        private readonly Dictionary<(int Size, int Batch, int Classes), List<Batch>> _batches = new();
        private int _epoch;

        public nn.Module<Tensor, Tensor> Model(string key, int classes)
        {
            if (!_models.TryGetValue(key, out var model))
            {
                torch.manual_seed(seed);
                model = key.StartsWith("smallcnn", StringComparison.Ordinal)
                    ? SmallCnn.Create(numClasses: classes, imageSize: LoaderBench.ImageSize)
                    : ResNet.ResNet18(numClasses: classes);
                _models[key] = model;
            }
            return model;
        }

        /// <summary>Minor page faults per training step of each timed <see cref="TrainFit"/>, for the table (cleared per row).</summary>
        public List<double> FaultsPerStep { get; } = [];

        public long Parameters(string model, int classes) => Model(model, classes).parameters().Sum(p => p.numel());

        /// <summary>Four random batches of the given shape (the Python side holds its own), reused in turn.</summary>
        private List<Batch> Batches(int size, int batch, int classes)
        {
            if (!_batches.TryGetValue((size, batch, classes), out var list))
            {
                list = [];
                for (int i = 0; i < 4; i++)
                {
                    var images = torch.rand(batch, 3, size, size);                               // [B, 3, S, S]
                    var labels = torch.randint(0, Math.Max(classes, 2), [batch], dtype: ScalarType.Int64); // [B]
                    images.DetachFromDisposeScope();
                    labels.DetachFromDisposeScope();
                    list.Add(new Batch(images, labels, []));
                }
                _batches[(size, batch, classes)] = list;
            }
            return list;
        }

        /// <summary>Endless aliases of the stored batches: the trainer disposes what it is given, the originals stay.</summary>
        private static IEnumerable<Batch> Cycle(List<Batch> batches)
        {
            for (int i = 0; ; i++)
            {
                var b = batches[i % batches.Count];
                yield return new Batch(b.Images.alias(), b.Labels.alias(), []);
            }
        }

        /// <summary>One <see cref="Trainer.Fit"/> of <paramref name="steps"/> steps on in-memory batches, timed whole.</summary>
        public double TrainFit(string model, int size, int batch, int classes, int steps, string optimizer, double lr)
        {
            var net = Model(model, classes);
            var batches = Batches(size, batch, classes);
            var options = new TrainOptions
            {
                Epochs = 1, Optimizer = optimizer, LearningRate = lr, Momentum = optimizer == "sgd" ? SgdMomentum : 0, StepsPerEpoch = steps,
            };
            var trainer = new Trainer(options);
            // Built outside the clock, as compare_pytorch.py builds its optimizer before its timer starts.
            using var opt = OptimizerFactory.Create(options.Optimizer, net.parameters(), options.LearningRate, options.Momentum, options.Nesterov, options.WeightDecay);
            long faults = ProcSelf.MinorFaults();
            var clock = Stopwatch.StartNew();
            trainer.Fit(net, _ => Cycle(batches).Take(steps), validation: null, optimizer: opt);
            double rate = steps * batch / clock.Elapsed.TotalSeconds;
            FaultsPerStep.Add((ProcSelf.MinorFaults() - faults) / (double)steps);
            return rate;
        }

        /// <summary>The loop anyone would write by hand with TorchSharp, on the same model and batches as TrainFit.</summary>
        public double BareLoop(string model, int size, int batch, int steps, double lr)
        {
            var net = Model(model, 1);
            var batches = Batches(size, batch, 1);
            var clock = Stopwatch.StartNew();
            using var adam = optim.Adam(net.parameters(), lr);
            net.train();
            for (int step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                var b = batches[step % batches.Count];
                adam.zero_grad();
                var logits = net.call(b.Images);                                                  // [B, 1]
                var loss = nn.functional.binary_cross_entropy_with_logits(logits.reshape(-1), b.Labels.to(ScalarType.Float32));
                loss.backward();
                adam.step();
                loss.item<float>();
            }
            return steps * batch / clock.Elapsed.TotalSeconds;
        }

        /// <summary>
        /// resnet18 in eval mode without gradients: forward, softmax and the probabilities copied out, as <c>predict</c>
        /// does per batch (and compare_pytorch.py's infer op); no loss or accuracy, which PyTorch's side does not compute.
        /// </summary>
        public double Infer(int size, int batch, int steps)
        {
            var net = Model("resnet18", ResNetClasses);
            var batches = Batches(size, batch, ResNetClasses);
            net.eval();
            var clock = Stopwatch.StartNew();
            using (no_grad())
            {
                for (int step = 0; step < steps; step++)
                {
                    using var scope = NewDisposeScope();
                    var probabilities = Evaluation.ClassifierInference.Probabilities(net.call(batches[step % batches.Count].Images)); // [B, 1000]
                    probabilities.data<float>().ToArray();
                }
            }
            double rate = steps * batch / clock.Elapsed.TotalSeconds;
            net.train();
            return rate;
        }

        /// <summary>smallcnn trained from the JPEG folder through DataLoader (augmented), a fresh epoch each call.</summary>
        public double EndToEnd(string dir, int batch, int steps, int workers, double lr)
        {
            var dataset = FolderDataset.Load(dir);
            var pipeline = ImagePipeline.Create(LoaderBench.Preprocessing, LoaderBench.Augmenter);
            var loader = new DataLoader(dataset, pipeline, LoaderBench.Preprocessing,
                new DataLoaderOptions { BatchSize = batch, Seed = seed, Workers = workers, StepsPerEpoch = steps });
            var net = Model("smallcnn", 1);
            var trainer = new Trainer(new TrainOptions { Epochs = 1, Optimizer = "adam", LearningRate = lr, StepsPerEpoch = steps });
            int epoch = _epoch++;
            long images = 0;
            var clock = Stopwatch.StartNew();
            // A pass's last batch is smaller (500 = 15 x 32 + 20): count the images actually trained on.
            trainer.Fit(net, _ => loader.Epoch(epoch).Select(b => { images += b.Size; return b; }), validation: null);
            return images / clock.Elapsed.TotalSeconds;
        }

        /// <summary>One pass over the folder through DataLoader with <paramref name="workers"/> threads, no model.</summary>
        public double Loader(string dir, int batch, int workers)
        {
            var dataset = FolderDataset.Load(dir);
            var pipeline = ImagePipeline.Create(LoaderBench.Preprocessing, LoaderBench.Augmenter);
            var loader = new DataLoader(dataset, pipeline, LoaderBench.Preprocessing,
                new DataLoaderOptions { BatchSize = batch, Seed = seed, Workers = workers });
            var clock = Stopwatch.StartNew();
            long images = 0;
            foreach (var b in loader.Epoch(_epoch++))
            {
                images += b.Size;
                b.Dispose();
            }
            return images / clock.Elapsed.TotalSeconds;
        }

        public void Dispose()
        {
            foreach (var list in _batches.Values) foreach (var b in list) b.Dispose();
            foreach (var m in _models.Values) m.Dispose();
        }
    }
}
