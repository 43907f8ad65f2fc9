using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using SharpVision.Data.Detection;
using SharpVision.Evaluation.Detection;
using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Weights.Keras;

/// <summary>What <see cref="KerasYolo3Importer.Import"/> made: the detector, its model-file config and a summary.</summary>
/// <param name="Model">The YOLOv3 network with the Keras weights (eval mode).</param>
/// <param name="Config">Its model-file config (task detection, the cfg text, classes).</param>
/// <param name="Variant">yolov3 or yolov3-tiny.</param>
/// <param name="Convolutions">Convolution layers copied (75 or 13).</param>
/// <param name="FullModel">True for a <c>model.save</c> file, false for <c>model.save_weights</c>.</param>
public sealed record KerasYolo3Import(YoloModel Model, ModelConfig Config, string Variant, int Convolutions, bool FullModel);

/// <summary>
/// Imports a detector trained with keras-yolo3 (qqwweee/keras-yolo3: <c>yolo_body</c> / <c>tiny_yolo_body</c>) from
/// either file it writes: <c>model.save</c> (convert.py, yolo.py's model_path) or <c>model.save_weights</c> (train.py's
/// <c>trained_weights_final.h5</c>). The network is our Darknet-cfg YOLOv3 (<see cref="YoloCfg"/>) with each
/// convolution's width read from the file, so reduced-width variants import too.
/// <para>Conventions handled:</para>
/// <list type="bullet">
/// <item>Layers are matched by creation order, as keras-yolo3 and Keras' topological loading do: Conv2D layers sorted by
/// the number Keras appended to their auto-generated name (<c>conv2d_1</c>, <c>conv2d_2</c>, ... in Keras 2.1-2.2;
/// <c>conv2d</c>, <c>conv2d_1</c>, ... in tf.keras), BatchNormalization layers likewise; the k-th convolution without a
/// bias takes the k-th BatchNormalization, the ones with a bias are the heads' output convolutions.</item>
/// <item>Kernels go from Keras' [kh, kw, in, out] to [out, in, kh, kw].</item>
/// <item>Keras' BatchNormalization divides by <c>sqrt(var + eps)</c> (eps 1e-3, or the layer's own in a
/// <c>model.save</c> file's config), our Darknet layer by <c>sqrt(var) + 1e-6</c>: the stored variance is
/// <c>(sqrt(var + eps) - 1e-6)^2</c>, computed in double, so the two agree to float rounding and the network stays a
/// plain Darknet cfg (every exporter and <c>detect train --weights</c> read it as usual; training recomputes batch
/// statistics with its own epsilon).</item>
/// <item>keras-yolo3 pads a stride-2 convolution on the top and left only (<c>ZeroPadding2D(((1,0),(1,0)))</c>, then
/// 'valid'); Darknet pads one on every side. With an even input side, which every stride-2 layer of a network whose
/// input is a multiple of 32 gets, the bottom and right padding is never read and both give the same windows.
/// keras-yolo3's tiny <c>MaxPooling2D(2, 1, 'same')</c> pads bottom/right only, as Darknet's size=2 stride=1 pool does.</item>
/// <item>Head order and anchor masks as keras-yolo3's <c>yolo_eval</c>: yolov3 [6,7,8], [3,4,5], [0,1,2]; tiny [3,4,5],
/// [1,2,3] (not Darknet's [0,1,2]). Anchors are in network-input pixels, used as written (keras-yolo3 does not scale them).</item>
/// </list>
/// </summary>
public static partial class KerasYolo3Importer
{
    /// <summary>Keras' BatchNormalization epsilon (its default, which keras-yolo3 keeps).</summary>
    public const double KerasBatchNormEpsilon = 1e-3;

    /// <summary>Reads the <c>.h5</c>, the anchors file and the class list, and builds the detector.</summary>
    /// <param name="h5Path">keras-yolo3's <c>model.save</c> or <c>model.save_weights</c> file.</param>
    /// <param name="anchorsPath">keras-yolo3's anchors file: <c>w,h,  w,h, ...</c> (9 pairs for yolov3, 6 for tiny).</param>
    /// <param name="classesPath">Class names, one per line (<c>coco_classes.txt</c>).</param>
    /// <param name="size">Network input side in pixels, a multiple of 32 (keras-yolo3's default 416).</param>
    public static KerasYolo3Import Import(string h5Path, string anchorsPath, string classesPath, int size = 416)
    {
        if (size < 32 || size % 32 != 0)
            throw new InvalidOptionException("KerasYolo3Importer.Size", "a multiple of 32 (>= 32)", size.ToString(CultureInfo.InvariantCulture));
        var anchors = ReadAnchors(anchorsPath);
        string variant = anchors.Count switch
        {
            9 => "yolov3",
            6 => "yolov3-tiny",
            _ => throw new InvalidOptionException("KerasYolo3Importer.Anchors", "9 width,height pairs (yolov3) or 6 (yolov3-tiny)", $"{anchors.Count} pairs in {anchorsPath}"),
        };
        var classes = ClassList.Read(classesPath);
        var file = KerasH5.Read(h5Path);

        var convs = Ordered(file.Layers.Where(l => l.Find("kernel") is { Shape.Length: 4 }), h5Path);
        var norms = Ordered(file.Layers.Where(l => l.Find("moving_mean") is not null), h5Path);
        int expected = variant == "yolov3" ? 75 : 13;
        if (convs.Count != expected)
            throw new ModelFileException($"{h5Path}: {convs.Count} Conv2D layers, but keras-yolo3's {variant} (chosen by the {anchors.Count} anchors) has {expected}.");
        var withoutBias = convs.Where(c => c.Find("bias") is null).ToList();
        if (withoutBias.Count != norms.Count)
            throw new ModelFileException($"{h5Path}: {withoutBias.Count} Conv2D layers without a bias but {norms.Count} BatchNormalization layers; keras-yolo3 pairs each such convolution with one.");

        string cfg = Cfg(variant, classes.Count, size, anchors, convs, h5Path);
        var model = new YoloModel(cfg, variant);
        try
        {
            Copy(model, convs, withoutBias, norms, BatchNormEpsilons(file.ModelConfig), h5Path);
            model.eval();
            var config = YoloDetector.ConfigFor(model, variant, classes);
            return new KerasYolo3Import(model, config, variant, convs.Count, file.ModelConfig is not null);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>keras-yolo3's anchors file: numbers separated by commas and white space, read as width,height pairs.</summary>
    public static IReadOnlyList<(float W, float H)> ReadAnchors(string path)
    {
        if (!File.Exists(path)) throw new InvalidOptionException("KerasYolo3Importer.Anchors", "an existing anchors file", $"{path} (not found)");
        var parts = File.ReadAllText(path).Split([',', ' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var numbers = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]) || numbers[i] <= 0)
                throw new InvalidOptionException("KerasYolo3Importer.Anchors", "positive numbers as w,h pairs (keras-yolo3's yolo_anchors.txt)", $"'{parts[i]}' in {path}");
        if (numbers.Length % 2 != 0)
            throw new InvalidOptionException("KerasYolo3Importer.Anchors", "width,height pairs (an even count of numbers)", $"{numbers.Length} numbers in {path}");
        return Enumerable.Range(0, numbers.Length / 2).Select(i => (numbers[2 * i], numbers[2 * i + 1])).ToList();
    }

    [GeneratedRegex(@"^(?<stem>.*?)(_(?<n>\d+))?$")]
    private static partial Regex NumberedName();

    /// <summary>
    /// Layers in Keras' creation order: by the number after the last '_' (none = 0, tf.keras' first layer), stems
    /// compared only to keep the order stable. Two layers with the same number are an error (mixed stems).
    /// </summary>
    internal static List<KerasLayerWeights> Ordered(IEnumerable<KerasLayerWeights> layers, string path)
    {
        var keyed = layers.Select(l =>
        {
            var m = NumberedName().Match(l.Name);
            long n = m.Groups["n"].Success && long.TryParse(m.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0;
            return (Layer: l, Stem: m.Groups["stem"].Value, N: n);
        }).ToList();
        var stems = keyed.Select(k => k.Stem).Distinct().ToList();
        if (stems.Count > 1)
            throw new ModelFileException($"{path}: layers of one kind have different name stems ({string.Join(", ", stems)}), so their creation order cannot be told from their names.");
        var duplicate = keyed.GroupBy(k => k.N).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ModelFileException($"{path}: {string.Join(" and ", duplicate.Select(d => d.Layer.Name))} have the same number, so their creation order is unknown.");
        return keyed.OrderBy(k => k.N).Select(k => k.Layer).ToList();
    }

    /// <summary>The built-in cfg of <paramref name="variant"/> with each convolution's filters taken from the file and keras-yolo3's tiny masks.</summary>
    private static string Cfg(string variant, int classes, int size, IReadOnlyList<(float W, float H)> anchors, IReadOnlyList<KerasLayerWeights> convs, string path)
    {
        string template = YoloCfg.Build(variant, classes, size, anchors);
        var text = new StringBuilder();
        int conv = -1, yolo = 0;
        string section = "";
        foreach (string line in template.Split('\n'))
        {
            if (line.StartsWith('[')) section = line;
            if (line == "[convolutional]") conv++;
            if (line == "[yolo]") yolo++;
            if (line.StartsWith("filters=", StringComparison.Ordinal))
            {
                var kernel = convs[conv].Find("kernel")!;
                text.Append("filters=").Append(kernel.Shape[3].ToString(CultureInfo.InvariantCulture)).Append('\n');
                continue;
            }
            if (line.StartsWith("size=", StringComparison.Ordinal) && section == "[convolutional]")
            {
                var kernel = convs[conv].Find("kernel")!;
                int expected = int.Parse(line["size=".Length..], CultureInfo.InvariantCulture);
                if (kernel.Shape[0] != expected || kernel.Shape[1] != expected)
                    throw new ModelFileException($"{path}: {convs[conv].Name} has a {kernel.Shape[0]}x{kernel.Shape[1]} kernel where keras-yolo3's {variant} has {expected}x{expected} (convolution {conv + 1} in creation order).");
            }
            // keras-yolo3's tiny second head uses anchors 1, 2, 3 (yolo_eval's anchor_mask), not Darknet's 0, 1, 2.
            text.Append(variant == "yolov3-tiny" && yolo == 2 && line == "mask=0,1,2" ? "mask=1,2,3" : line).Append('\n');
        }
        return text.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>
    /// Each BatchNormalization's epsilon as a <c>model.save</c> file's <c>model_config</c> states it (Keras' default
    /// 1e-3 for the layers it does not list, and for <c>model.save_weights</c> files, which have no config).
    /// </summary>
    private static Dictionary<string, double> BatchNormEpsilons(string? modelConfig)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (modelConfig is null) return result;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(modelConfig);
            if (!doc.RootElement.TryGetProperty("config", out var config) || config.ValueKind != System.Text.Json.JsonValueKind.Object
                || !config.TryGetProperty("layers", out var layers)) return result;
            foreach (var layer in layers.EnumerateArray())
            {
                if (!layer.TryGetProperty("class_name", out var cls) || cls.GetString() != "BatchNormalization") continue;
                var c = layer.GetProperty("config");
                if (c.TryGetProperty("name", out var name) && c.TryGetProperty("epsilon", out var eps) && eps.ValueKind == System.Text.Json.JsonValueKind.Number)
                    result[name.GetString()!] = eps.GetDouble();
            }
        }
        catch (System.Text.Json.JsonException)
        {
            // The weights alone are enough for keras-yolo3's fixed architecture: an unreadable config keeps the default.
        }
        return result;
    }

    private static void Copy(YoloModel model, IReadOnlyList<KerasLayerWeights> convs, IReadOnlyList<KerasLayerWeights> withoutBias,
        IReadOnlyList<KerasLayerWeights> norms, IReadOnlyDictionary<string, double> epsilons, string path)
    {
        var targets = model.Network.ConvolutionalLayers;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < convs.Count; i++)
        {
            var source = convs[i];
            var target = targets[i];
            var kernel = source.Find("kernel")!;
            var hwio = tensor(kernel.Data, kernel.Shape);                                       // [kh, kw, in, out]
            var oihw = hwio.permute(3, 2, 0, 1);                                                // [out, in, kh, kw]
            if (!oihw.shape.SequenceEqual(target.Weights.shape))
                throw new ModelFileException($"{path}: {source.Name}'s kernel [{string.Join(", ", kernel.Shape)}] (Keras kh, kw, in, out) does not fit convolution {i + 1} of keras-yolo3's network, which takes [{target.Size}, {target.Size}, {target.InChannels}, {target.Filters}].");
            target.Weights.copy_(oihw);
            var bias = source.Find("bias");
            if (target.BatchNormalize != (bias is null))
                throw new ModelFileException($"{path}: {source.Name} {(bias is null ? "has no bias" : "has a bias")} but convolution {i + 1} of keras-yolo3's network {(target.BatchNormalize ? "is followed by BatchNormalization" : "is a head's output convolution (with a bias)")}.");
            if (bias is not null)
            {
                target.Biases.copy_(tensor(bias.Data));
                continue;
            }
            var norm = norms[withoutBias.ToList().IndexOf(source)];
            int filters = target.Filters;
            float[] Vector(string name, float fallback)
            {
                var w = norm.Find(name);
                if (w is null) return Enumerable.Repeat(fallback, filters).ToArray();
                if (w.Data.Length != filters)
                    throw new ModelFileException($"{path}: {norm.Name}'s {name} has {w.Data.Length} values but {source.Name}, the convolution it follows, has {filters} filters.");
                return w.Data;
            }
            var variance = norm.Find("moving_variance") is null
                ? throw new ModelFileException($"{path}: {norm.Name} has no moving_variance.")
                : Vector("moving_variance", 1);
            // Keras: (x - mean) / sqrt(var + eps); ours: (x - mean) / (sqrt(var') + 1e-6). Equal for var' below.
            double eps = epsilons.GetValueOrDefault(norm.Name, KerasBatchNormEpsilon);
            var folded = variance.Select(v => (float)Math.Pow(Math.Sqrt(v + eps) - DarknetConvolutional.BatchNormEpsilon, 2)).ToArray();
            target.Scales!.copy_(tensor(Vector("gamma", 1)));   // scale=False: gamma is 1
            target.Biases.copy_(tensor(Vector("beta", 0)));     // center=False: beta is 0
            target.RollingMean!.copy_(tensor(Vector("moving_mean", 0)));
            target.RollingVariance!.copy_(tensor(folded));
        }
    }
}
