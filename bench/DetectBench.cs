using SharpVision.Evaluation.Detection;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Weights;
using static TorchSharp.torch;

namespace SharpVision.Bench;

/// <summary>
/// <c>-- detect [images]</c>: yolov3-tiny at 416, batch 1, images/s for SharpVision (decode, letterbox, network,
/// YOLO decoding, NMS) next to Debian's darknet (<c>detector valid</c>'s "Total Detection Time", which covers the
/// same steps after network loading), on the same PNG images, the same darknet-written random weights (BatchNorm
/// variance set to 1, objectness bias -10 so that NMS stays negligible) and the same thresholds (.005, NMS .45).
/// </summary>
public static class DetectBench
{
    private const string Darknet = "/usr/bin/darknet";
    private const string Share = "/usr/share/darknet";

    public static int Run(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 24;
        string cfg = Path.Combine(Share, "cfg", "yolov3-tiny.cfg");
        if (!File.Exists(cfg))
        {
            Console.WriteLine($"detect: {cfg} not found (apt-get install darknet); nothing to compare");
            return 1;
        }
        string dir = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), "sv-detect-bench-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            string weights = RandomWeights(dir, cfg);
            var images = Images(dir, count);
            string names = Path.Combine(Share, "data", "coco.names");
            var options = new DetectOptions { Confidence = .005f, Iou = .45f };

            double ours;
            using (var detector = YoloDetector.LoadDarknet(cfg, weights, names))
            {
                detector.Detect(ImageDecoder.Decode(images[0]), options); // warm-up
                var sw = Stopwatch.StartNew();
                foreach (var path in images) detector.Detect(ImageDecoder.Decode(path), options);
                ours = images.Count / sw.Elapsed.TotalSeconds;
            }

            double? theirs = File.Exists(Darknet) ? DarknetValid(dir, cfg, weights, names, images) : null;
            Console.WriteLine($"yolov3-tiny 416, batch 1, {images.Count} images, threads: torch {get_num_threads()}");
            Console.WriteLine($"  sharpvision  {ours,8:F2} images/s");
            if (theirs is double t)
            {
                Console.WriteLine($"  darknet      {t,8:F2} images/s");
                Console.WriteLine($"  ratio        {ours / t,8:F2}x (sharpvision / darknet)");
            }
            else Console.WriteLine("  darknet not found: apt-get install darknet");
            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Darknet's random initialisation (partial from an empty file), BatchNorm variance set to 1; ours when darknet is absent.</summary>
    private static string RandomWeights(string dir, string cfg)
    {
        using var net = DarknetNetwork.FromFile(cfg);
        if (File.Exists(Darknet))
        {
            string empty = Path.Combine(dir, "empty.weights"), raw = Path.Combine(dir, "raw.weights");
            File.WriteAllBytes(empty, []);
            Exec(dir, "partial", cfg, empty, raw, "1000");
            DarknetWeights.Read(raw, net);
        }
        else
        {
            using var _ = no_grad();
            foreach (var c in net.ConvolutionalLayers) c.Weights.copy_(randn(c.Weights.shape) * Math.Sqrt(2.0 / (c.Size * c.Size * c.InChannels)));
        }
        using (no_grad())
        {
            foreach (var c in net.ConvolutionalLayers.Where(c => c.BatchNormalize)) c.RollingVariance!.fill_(1);
            // Objectness bias -10 on the heads: random weights otherwise put ~all 2,535 boxes x 80 classes above .005
            // and both sides would spend their time in the quadratic NMS instead of the network.
            var layers = net.Layers;
            for (int i = 1; i < layers.Count; i++)
                if (layers[i] is YoloLayer y && layers[i - 1] is DarknetConvolutional head)
                {
                    var b = head.Biases.data<float>().ToArray();
                    for (int a = 0; a < y.Mask.Count; a++) b[a * (5 + y.Classes) + 4] = -10;
                    head.Biases.copy_(tensor(b));
                }
        }
        string path = Path.Combine(dir, "bench.weights");
        DarknetWeights.Write(path, net);
        return path;
    }

    /// <summary>Darknet's sample photos as PNG (identical pixels on both sides), repeated to <paramref name="count"/> files.</summary>
    private static List<string> Images(string dir, int count)
    {
        var photos = new[] { "dog", "eagle", "giraffe", "horses", "kite", "person", "scream" }
            .Select(n => Path.Combine(Share, "data", n + ".jpg")).Where(File.Exists).Select(p => ImageDecoder.Decode(p)).ToList();
        if (photos.Count == 0) throw new InvalidOperationException($"no sample photos in {Share}/data");
        var paths = new List<string>();
        for (int i = 0; i < Math.Max(count, 4); i++)
        {
            string path = Path.Combine(dir, $"img_{i + 1}.png");
            ImageEncoder.SavePng(photos[i % photos.Count], path);
            paths.Add(path);
        }
        return paths;
    }

    private static double DarknetValid(string dir, string cfg, string weights, string names, List<string> images)
    {
        File.WriteAllLines(Path.Combine(dir, "valid.txt"), images);
        Directory.CreateDirectory(Path.Combine(dir, "results"));
        string data = Path.Combine(dir, "bench.data");
        File.WriteAllText(data, $"classes=80\nvalid={Path.Combine(dir, "valid.txt")}\nnames={names}\nresults={Path.Combine(dir, "results")}\neval=coco\n");
        string log = Exec(dir, "detector", "valid", data, cfg, weights);
        var m = Regex.Match(log, @"Total Detection Time: ([0-9.]+) Seconds");
        if (!m.Success) throw new InvalidOperationException("darknet did not print its detection time:\n" + log);
        return images.Count / double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static string Exec(string dir, params string[] args)
    {
        var start = new ProcessStartInfo(Darknet) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd() + err.Result;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"darknet {string.Join(' ', args)} exited with {p.ExitCode}:\n{output}");
        return output;
    }
}
