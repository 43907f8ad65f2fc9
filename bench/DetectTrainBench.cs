using System.Diagnostics;
using System.Globalization;
using SharpVision.Augmentation;
using SharpVision.Data.Detection;
using SharpVision.Models;
using SharpVision.Training.Detection;
using static TorchSharp.torch;

namespace SharpVision.Bench;

/// <summary>
/// <c>-- detect-train [model] [size] [batch] [steps]</c>: where a YOLO training step spends its time on the shapes
/// set (loader wait, forward, loss, backward, optimizer step), in ms per step and training images/s, so that the
/// demo's model and image size are chosen from measurements. Defaults: yolov3-tiny-quarter, 256, batch 8, 30 steps.
/// </summary>
public static class DetectTrainBench
{
    public static int Run(string[] args)
    {
        string name = args.Length > 0 ? args[0] : "yolov3-tiny-quarter";
        int size = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 256;
        int batch = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 8;
        int steps = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 30;
        string dir = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "sv-detect-train-bench-" + Environment.ProcessId);
        try
        {
            var shapes = ShapesDataset.Generate(dir, batch * (steps + 3), seed: 0, size: 256, valFraction: 0);
            var data = DetectionData.Open(shapes.TrainFile, null, null);
            var anchors = YoloCfg.DefaultAnchors(name, size);
            using var model = new YoloModel(YoloCfg.Build(name, data.Classes.Count, size, anchors), name);
            using var optimizer = optim.Adam(model.parameters(), 1e-3);
            int workers = Math.Max(1, Environment.ProcessorCount - 1);
            var loader = new DetectionLoader(data, size, new DetectionLoaderOptions
            { BatchSize = batch, Seed = 0, Workers = workers, Augment = new BoxAugmentOptions { Jitter = .2, MinScale = .6, MaxScale = 1.4 } });

            // Per phase: total seconds over the timed steps (the first 3 steps warm up and are not counted).
            var phases = new[] { "wait for data", "forward", "loss", "backward", "step" };
            var seconds = new double[phases.Length];
            int counted = 0;
            model.train();
            var clock = Stopwatch.StartNew();
            int k = 0;
            foreach (var b in loader.Epoch(0))
            {
                double waited = clock.Elapsed.TotalSeconds;
                using var scope = NewDisposeScope();
                var t = Stopwatch.StartNew();
                var raw = model.call(b.Images);
                double forward = t.Elapsed.TotalSeconds;
                var loss = YoloLoss.Compute(model, raw, b.Labels).Total;
                loss.item<float>();
                double lossTime = t.Elapsed.TotalSeconds - forward;
                optimizer.zero_grad();
                loss.backward();
                double backward = t.Elapsed.TotalSeconds - forward - lossTime;
                optimizer.step();
                double step = t.Elapsed.TotalSeconds - forward - lossTime - backward;
                b.Images.Dispose(); b.Labels.Dispose();
                if (++k > 3)
                {
                    counted++;
                    double[] now = [waited, forward, lossTime, backward, step];
                    for (int i = 0; i < now.Length; i++) seconds[i] += now[i];
                }
                clock.Restart();
            }
            double total = seconds.Sum();
            Console.WriteLine($"{name} at {size}px, batch {batch}, {counted} timed steps, torch threads {get_num_threads()}, loader workers {workers}");
            for (int i = 0; i < phases.Length; i++)
                Console.WriteLine($"  {phases[i],-14} {1000 * seconds[i] / counted,8:F1} ms/step  {100 * seconds[i] / total,5:F1} %");
            Console.WriteLine($"  {"total",-14} {1000 * total / counted,8:F1} ms/step  {counted * batch / total,8:F1} images/s");
            return 0;
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
