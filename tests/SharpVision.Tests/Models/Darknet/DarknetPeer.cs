using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Weights;
using static TorchSharp.torch;

namespace SharpVision.Tests.Models.Darknet;

/// <summary>
/// Debian's <c>darknet</c> (/usr/bin/darknet, cfgs in /usr/share/darknet/cfg) as the reference peer: makes
/// random weights with <c>darknet partial</c> and runs <c>darknet detector valid</c> with COCO output.
/// </summary>
public static class DarknetPeer
{
    public const string Exe = "/usr/bin/darknet";
    public const string Share = "/usr/share/darknet";
    public const string MissingReason = "Debian's darknet not found: apt-get install darknet";

    public static bool Available => File.Exists(Exe) && File.Exists(Cfg("yolov3-tiny"));

    public static string Cfg(string name) => Path.Combine(Share, "cfg", name + ".cfg");
    public static string CocoNames => Path.Combine(Share, "data", "coco.names");

    /// <summary>Runs darknet in <paramref name="workDir"/>; returns stdout + stderr; throws on a non-zero exit or timeout.</summary>
    public static string Run(string workDir, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo(Exe)
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start) ?? throw new InvalidOperationException("could not start darknet");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"darknet {string.Join(' ', args)} did not finish in {timeout.TotalSeconds} s");
        }
        p.WaitForExit();
        string all = stdout.Result + stderr.Result;
        if (p.ExitCode != 0) throw new InvalidOperationException($"darknet {string.Join(' ', args)} exited with {p.ExitCode}:\n{all}");
        return all;
    }

    /// <summary>
    /// Random weights written by darknet itself: <c>darknet partial CFG empty.weights OUT 1000</c> loads nothing from the
    /// empty file (the layers keep their random initialisation) and saves them. Its BatchNorm variance is 0, which
    /// makes every output explode, so we set mean and variance with our reader/writer from statistics measured on
    /// <paramref name="calibrationImage"/> (variance times a random 0.5..1.5). Then the convolutions
    /// feeding [yolo] layers get, on their objectness and class rows only, weights scaled so that those logits have a
    /// standard deviation of <paramref name="headGain"/> (class logits centred on <paramref name="headBias"/>), so that
    /// scores spread from ~0 to ~1 instead of all sitting near 0.25 (or, in yolov3, whose residual sums grow large, all 0 or 1);
    /// x, y, w, h keep darknet's scale, so boxes stay a few cells wide (a larger spread gives sub-pixel slivers whose
    /// IoU is float noise). The objectness bias is calibrated on <paramref name="calibrationImage"/> so that about
    /// <paramref name="passFraction"/> of the boxes have objectness above .005: darknet's NMS is quadratic in them.
    /// The comparison is then on this one file, read by both sides.
    /// </summary>
    public static string MakeRandomWeights(string workDir, string cfgName, string calibrationImage, double passFraction,
        float headGain = 2.5f, float headBias = -3f, int seed = 7)
    {
        string empty = Path.Combine(workDir, "empty.weights");
        File.WriteAllBytes(empty, []);
        string raw = Path.Combine(workDir, cfgName + ".partial.weights");
        Run(workDir, TimeSpan.FromMinutes(2), "partial", Cfg(cfgName), empty, raw, "1000");
        using var net = DarknetNetwork.FromFile(Cfg(cfgName));
        var header = DarknetWeights.Read(raw, net);
        net.eval();
        File.Delete(raw);
        var rng = new Random(seed);
        var layers = net.Layers;
        var heads = new List<(DarknetConvolutional Conv, YoloLayer Yolo)>();
        for (int i = 1; i < layers.Count; i++)
            if (layers[i] is YoloLayer y && layers[i - 1] is DarknetConvolutional c) heads.Add((c, y));
        using (no_grad())
        {
            // BatchNorm statistics measured on the calibration image (times a random 0.5..1.5 on the variance), so each
            // BN output is about unit scale: with variance 1 everywhere, yolov3's 23 residual sums grow activations to
            // ~1e5 and exp(w) overflows.
            var image = ImageDecoder.Decode(calibrationImage);
            using var input = tensor(DarknetImage.Letterbox(image, net.Width, net.Height), [1, 3, net.Height, net.Width]);
            using (var scope = NewDisposeScope())
            {
                var earlier = new List<Tensor>();
                var current = input;
                foreach (var layer in layers)
                {
                    if (layer is DarknetConvolutional { BatchNormalize: true } conv)
                    {
                        var convOut = nn.functional.conv2d(current, conv.Weights, null, [conv.Stride, conv.Stride], [conv.Padding, conv.Padding], groups: conv.Groups);
                        conv.RollingMean!.copy_(convOut.mean([0, 2, 3]));
                        var factor = tensor(Enumerable.Range(0, conv.Filters).Select(_ => (float)(0.5 + rng.NextDouble())).ToArray());
                        conv.RollingVariance!.copy_(convOut.var([0, 2, 3]).mul(factor).clamp_min(1e-6));
                    }
                    current = layer.Run(current, earlier);
                    earlier.Add(current);
                }
            }

            // Measure the objectness and class logits on the same image with those rows scaled down by 1e-3 (so the
            // logistic never saturates and the logit can be recovered), then pick per-row gains giving logits of
            // standard deviation headGain, an objectness bias letting passFraction of the boxes pass .005, and a
            // class bias centring class logits on headBias.
            const double probe = 1e-3;
            foreach (var (head, yolo) in heads)
                ScaleRows(head, yolo, _ => (float)probe, _ => float.NaN, zeroScaledBias: true);
            var outputs = net.call(input);
            var obj = new List<double>();
            var cls = new List<double>();
            var wh = new List<double>();
            for (int h = 0; h < heads.Count; h++)
            {
                var yolo = heads[h].Yolo;
                using var all = outputs[h].view(yolo.Mask.Count, 5 + yolo.Classes, -1).to(float64);
                using var logit = (all / (1 - all)).log() / probe;
                using var o = logit[.., 4].contiguous();
                using var c = logit[.., 5..].contiguous();
                using var sz = all[.., 2..4].contiguous() / probe; // w, h are not squashed: raw values
                wh.AddRange(sz.data<double>().ToArray());
                obj.AddRange(o.data<double>().ToArray());
                cls.AddRange(c.data<double>().ToArray());
                outputs[h].Dispose();
            }
            obj.Sort();
            // w, h logits get a standard deviation of 0.5 (boxes from ~1/3 to 3 anchors); x, y stay at probe*1/probe = 1.
            double objGain = headGain / Std(obj), clsGain = headGain / Std(cls), whGain = 0.5 / Std(wh);
            double q = obj[(int)((1 - passFraction) * (obj.Count - 1))];
            float objBias = (float)(Math.Log(.005 / .995) - objGain * q);
            float clsBias = (float)(headBias - clsGain * cls.Average());
            foreach (var (head, yolo) in heads)
                ScaleRows(head, yolo, e => (float)((e == 4 ? objGain : e > 4 ? clsGain : e >= 2 ? whGain : 1) / probe),
                    e => e == 4 ? objBias : e > 4 ? clsBias : float.NaN);
        }
        string patched = Path.Combine(workDir, cfgName + ".weights");
        DarknetWeights.Write(patched, net, header);
        return patched;
    }

    private static double Std(List<double> v)
    {
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Count);
    }

    /// <summary>Multiplies the weight rows of each anchor's entry e by gain(e) and sets its bias to bias(e) (NaN keeps it).</summary>
    private static void ScaleRows(DarknetConvolutional head, YoloLayer yolo, Func<int, float> gain, Func<int, float> bias, bool zeroScaledBias = false)
    {
        var g = new float[head.Filters];
        var b = head.Biases.data<float>().ToArray();
        for (int a = 0; a < yolo.Mask.Count; a++)
            for (int e = 0; e < 5 + yolo.Classes; e++)
            {
                int row = a * (5 + yolo.Classes) + e;
                g[row] = gain(e);
                if (!float.IsNaN(bias(e))) b[row] = bias(e);
                else if (zeroScaledBias && g[row] != 1) b[row] = 0;
            }
        head.Weights.mul_(tensor(g).view(-1, 1, 1, 1));
        head.Biases.copy_(tensor(b));
    }

    /// <summary>Sample photos of darknet's data folder decoded once and saved as PNG (lossless, so both sides read identical pixels).</summary>
    public static List<string> PngSamples(string workDir, params string[] names)
    {
        var result = new List<string>();
        for (int i = 0; i < names.Length; i++)
        {
            var image = ImageDecoder.Decode(Path.Combine(Share, "data", names[i] + ".jpg"));
            // darknet's COCO writer takes the image id from the digits after the last '_'.
            string png = Path.Combine(workDir, $"img_{i + 1}.png");
            ImageEncoder.SavePng(image, png);
            result.Add(png);
        }
        return result;
    }

    public sealed record PeerBox(int ImageIndex, int ClassId, float Score, float X1, float Y1, float X2, float Y2);

    private static readonly int[] CocoIds =
    [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38,
        39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75,
        76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
    ];

    /// <summary>
    /// <c>darknet detector valid</c> (thresh .005, NMS .45, letterboxed input) with <c>eval=coco</c>: returns its
    /// boxes (pixel corners clipped to the image) and the wall-clock seconds it took.
    /// </summary>
    public static (List<PeerBox> Boxes, double Seconds) DetectorValid(string workDir, string cfgPath, string weights, IReadOnlyList<string> images)
    {
        File.WriteAllLines(Path.Combine(workDir, "valid.txt"), images);
        Directory.CreateDirectory(Path.Combine(workDir, "results"));
        string data = Path.Combine(workDir, "peer.data");
        File.WriteAllText(data, $"classes=80\nvalid={Path.Combine(workDir, "valid.txt")}\nnames={CocoNames}\nresults={Path.Combine(workDir, "results")}\neval=coco\n");
        var sw = Stopwatch.StartNew();
        Run(workDir, TimeSpan.FromMinutes(10), "detector", "valid", data, cfgPath, weights);
        double seconds = sw.Elapsed.TotalSeconds;
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(workDir, "results", "coco_results.json")));
        var boxes = new List<PeerBox>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            var bb = e.GetProperty("bbox").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            boxes.Add(new PeerBox(e.GetProperty("image_id").GetInt32() - 1, Array.IndexOf(CocoIds, e.GetProperty("category_id").GetInt32()),
                e.GetProperty("score").GetSingle(), bb[0], bb[1], bb[0] + bb[2], bb[1] + bb[3]));
        }
        return (boxes, seconds);
    }
}

/// <summary>A fact that runs only where Debian's darknet is installed, and says why it skips otherwise.</summary>
public sealed class DarknetFactAttribute : FactAttribute
{
    public DarknetFactAttribute()
    {
        if (!DarknetPeer.Available) Skip = DarknetPeer.MissingReason;
    }
}
