using System.Diagnostics;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Platform;
using SharpVision.Weights;
using SharpVision.Weights.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Bench;

/// <summary>
/// <c>engines</c>: the two engines <c>predict --engine</c> chooses between, on the same resnet18 (224 px, batch 32,
/// 1000 classes, seeded random weights) and the same in-memory batches: TorchSharp (eval, no_grad, forward + softmax,
/// probabilities copied out) and ONNX Runtime running our own export of that network (<see cref="OnnxExporter"/>, built
/// in memory; the batch's floats copied into its input, as <c>ClassifierInference.RunOnLoader</c> does). Both get the
/// same number of threads (ONNX Runtime's intra-op threads = libtorch's threads). Each side warms up once, then the sides
/// alternate over <c>--reps</c> repetitions of <c>--steps</c> batches (who goes first alternates too); medians.
/// Decoding is left out: both engines are fed by the same loader in <c>predict</c>.
/// </summary>
public static class EngineBench
{
    private const int Size = 224, Batch = 32, Classes = 1000;

    public static int Run(BenchArgs args)
    {
        int cores = Environment.ProcessorCount;
        int threads = Math.Max(1, args.TorchThreads ?? cores);
        int reps = Math.Max(1, args.Reps ?? 3);
        int steps = Math.Max(1, args.Steps ?? 3);
        torch.set_num_threads(threads);
        torch.manual_seed(args.Seed);

        using var model = ResNet.ResNet18(numClasses: Classes);
        model.eval();
        var config = new ModelConfig
        {
            Architecture = "resnet18", NumClasses = Classes, Classes = Enumerable.Range(0, Classes).Select(i => $"c{i}").ToArray(),
            Preprocessing = new Preprocessing { Size = Size },
        };
        var build = Stopwatch.StartNew();
        using var onnx = new OnnxClassifier(OnnxExporter.Build(model, config), "resnet18 (in memory)", threads);
        double exportSeconds = build.Elapsed.TotalSeconds;

        var batches = Enumerable.Range(0, 2).Select(_ =>
        {
            var images = torch.rand(Batch, 3, Size, Size); // [B, 3, 224, 224]
            images.DetachFromDisposeScope();
            return images;
        }).ToList();
        try
        {
            float[] TorchStep(Tensor images)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                return Evaluation.ClassifierInference.Probabilities(model.call(images)).cpu().data<float>().ToArray(); // [B, 1000]
            }
            float[] OnnxStep(Tensor images) => onnx.PredictPrepared(images.data<float>().ToArray(), Batch).SelectMany(p => p).ToArray();
            double Rate(Func<Tensor, float[]> step, int n)
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < n; i++) step(batches[i % batches.Count]);
                return n * Batch / clock.Elapsed.TotalSeconds;
            }

            Console.WriteLine($"engines: resnet18 {Size} px, batch {Batch}, {Classes} classes, random weights; {reps} repetitions of {steps} batches after one warm-up batch each, alternating sides; medians");
            Console.WriteLine($"torch:       TorchSharp {typeof(torch).Assembly.GetName().Version} (libtorch {torch.__version__}), {torch.get_num_threads()} thread(s)");
            Console.WriteLine($"onnxruntime: Microsoft.ML.OnnxRuntime {typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version}, {threads} intra-op thread(s), our export (opset {OnnxExporter.Opset}) built in {exportSeconds:F1} s");
            Console.WriteLine($"libtorch: {(TorchRuntime.Note.Length > 0 ? TorchRuntime.Note : "as shipped")}; allocator: {NativeAllocator.Current?.Detail ?? "not decided"}");
            Console.WriteLine($"machine: {cores} logical cores, load average {TrainBench.LoadAverage()} at start");

            var byTorch = TorchStep(batches[0]);
            var byOnnx = OnnxStep(batches[0]);
            double maxDiff = byTorch.Zip(byOnnx, (a, b) => (double)Math.Abs(a - b)).Max();

            var torchRates = new List<double>();
            var onnxRates = new List<double>();
            for (int rep = 0; rep < reps; rep++)
            {
                if (rep % 2 == 0) { torchRates.Add(Rate(TorchStep, steps)); onnxRates.Add(Rate(OnnxStep, steps)); }
                else { onnxRates.Add(Rate(OnnxStep, steps)); torchRates.Add(Rate(TorchStep, steps)); }
                Console.WriteLine($"  rep {rep + 1}: torch {torchRates[^1],7:F1}  onnxruntime {onnxRates[^1],7:F1}  ratio {onnxRates[^1] / torchRates[^1]:F3}");
            }

            double torchMedian = Stats.Median(torchRates), onnxMedian = Stats.Median(onnxRates);
            Console.WriteLine();
            Console.WriteLine("images/s, medians; ratio = onnxruntime / torch (above 1: ONNX Runtime is faster)");
            var table = new Table("row", "torch", "onnxruntime", "ratio", "torch min..max", "onnxruntime min..max", "max |p diff|", "load avg");
            table.Add($"infer resnet18 {Size} b{Batch}: TorchSharp vs ONNX Runtime", torchMedian.ToString("F1"), onnxMedian.ToString("F1"),
                (onnxMedian / torchMedian).ToString("F2"), Stats.Range(torchRates, "F1"), Stats.Range(onnxRates, "F1"), maxDiff.ToString("0.0e+0"),
                TrainBench.LoadAverage().Split(' ')[0]);
            table.Print(Console.Out);
            Console.WriteLine($"load average at end: {TrainBench.LoadAverage()}");
            return 0;
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }
}
