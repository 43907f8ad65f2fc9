using System.Diagnostics;
using SharpVision.Data;
using SharpVision.Models;
using SharpVision.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Bench;

/// <summary>
/// <c>precision</c>: resnet18 at 224 px, batch 16, 10 classes, Adam, trained with <see cref="Trainer.Fit"/> on one
/// in-memory batch in fp32 and in bf16 mixed precision (<see cref="MixedPrecision"/>), alternating after a warm-up of
/// each; prints the median ms per step and images/s of each and the bf16/fp32 speed-up. Kept short on purpose
/// (default 3 steps x 2 repetitions): the machine is shared.
/// </summary>
public static class PrecisionBench
{
    private const int Size = 224, BatchSize = 16, Classes = 10;

    public static int Run(BenchArgs args)
    {
        int steps = Math.Max(1, args.Steps ?? 3);
        int reps = Math.Max(1, args.Reps ?? 2);
        int threads = args.TorchThreads ?? ThreadPlan.Choose(Environment.ProcessorCount, args.Workers).TorchThreads;
        torch.set_num_threads(threads);
        torch.manual_seed(args.Seed);
        if (MixedPrecision.Unsupported(Precision.Bf16, Platform.CpuInfo.Current) is { } why)
        {
            Console.Error.WriteLine($"precision: bf16 cannot run here: {why}");
            return 2;
        }
        using var model = ResNet.ResNet18(Classes);
        using var images = randn(BatchSize, 3, Size, Size);
        using var labels = randint(0, Classes, [BatchSize]);
        IEnumerable<Batch> Source()
        {
            // Aliases: the trainer disposes every batch it is given, the stored tensors must survive.
            for (int i = 0; i < steps; i++) yield return new Batch(images.alias(), labels.alias(), []);
        }
        double Measure(Precision precision, int count)
        {
            var trainer = new Trainer(new TrainOptions { Epochs = 1, Optimizer = "adam", LearningRate = 1e-4, Precision = precision });
            var clock = Stopwatch.StartNew();
            trainer.Fit(model, _ => Source().Take(count), validation: null);
            return clock.Elapsed.TotalMilliseconds / count;
        }

        Console.WriteLine($"precision: resnet18 {Size}x{Size}, batch {BatchSize}, adam, {steps} steps x {reps} repetitions per precision " +
                          $"after 1 warm-up step each, {threads} libtorch thread(s); CPU {Platform.CpuInfo.Current.Brand}");
        Console.WriteLine($"load average before: {TrainBench.LoadAverage()}");
        Measure(Precision.Fp32, 1);
        Measure(Precision.Bf16, 1);
        var fp32 = new List<double>();
        var bf16 = new List<double>();
        for (int rep = 0; rep < reps; rep++)
        {
            // Alternate which goes first, so a slow spell on the shared machine hits both sides alike.
            if (rep % 2 == 0) { fp32.Add(Measure(Precision.Fp32, steps)); bf16.Add(Measure(Precision.Bf16, steps)); }
            else { bf16.Add(Measure(Precision.Bf16, steps)); fp32.Add(Measure(Precision.Fp32, steps)); }
            Console.WriteLine($"  rep {rep + 1}: fp32 {fp32[^1],7:F0} ms/step, bf16 {bf16[^1],7:F0} ms/step");
        }
        double a = Stats.Median(fp32), b = Stats.Median(bf16);
        Console.WriteLine();
        var table = new Table("precision (resnet18 training)", "ms/step", "min..max", "images/s");
        table.Add("fp32", a.ToString("F0"), Stats.Range(fp32, "F0"), (1000 * BatchSize / a).ToString("F1"));
        table.Add("bf16 mixed", b.ToString("F0"), Stats.Range(bf16, "F0"), (1000 * BatchSize / b).ToString("F1"));
        table.Print(Console.Out);
        Console.WriteLine();
        Console.WriteLine($"bf16 speed-up (fp32 ms / bf16 ms)  {a / b:F2}");
        Console.WriteLine($"load average after: {TrainBench.LoadAverage()}");
        return 0;
    }
}
