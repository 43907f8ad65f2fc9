using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Onnx;
using SharpVision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using A = SharpVision.Weights.Onnx.OnnxGraph;

namespace SharpVision.Weights.Onnx;

/// <summary>
/// Writes a YOLOv3 detector as an ONNX model (opset 17) whose outputs are the DECODED heads, so a consumer needs
/// only thresholds, a letterbox and NMS: a trained <see cref="YoloModel"/> (yolov3, yolov3-tiny and its width variants,
/// any cfg), a <see cref="YoloBackboneModel"/> (yolov3-resnet18 ...) or a Darknet <see cref="DarknetNetwork"/> with
/// its <c>.weights</c>. The network part is written layer by layer with the forward's own arithmetic (Darknet's
/// inference BatchNorm stays sub, div, mul, add on <c>sqrt(var) + 1e-6</c>, as <see cref="DarknetConvolutional"/>
/// computes it); the decoding part is <c>YoloDecoder.DecodeMaps</c>' arithmetic in graph form.
/// <para>
/// Graph: input <c>"input"</c> [N, 3, H, W] float32, RGB in 0..1, letterboxed (see metadata
/// <see cref="OnnxDetectorInfo.LetterboxKey"/>); outputs, P = every head's cells x anchors in Darknet's order
/// (head, cell row-major, anchor): <c>"boxes"</c> [N, P, 4] centre x, centre y, width, height in input pixels;
/// <c>"objectness"</c> [N, P] in 0..1; <c>"class_scores"</c> [N, P, K] class probabilities (sigmoid, not multiplied
/// by the objectness).
/// </para>
/// </summary>
public static class OnnxDetectorExporter
{
    /// <summary>Exports <paramref name="network"/> to <paramref name="path"/> (written atomically).</summary>
    /// <param name="network">A <see cref="YoloNet"/> (trained detector) or a <see cref="DarknetNetwork"/> ending in <c>[yolo]</c> layers.</param>
    /// <param name="architecture">Recorded as the architecture ("yolov3-tiny", a cfg's name).</param>
    /// <param name="classes">Class names, index = class score column.</param>
    /// <param name="path">Destination .onnx file.</param>
    /// <exception cref="OnnxExportException">A layer has no ONNX converter (the message names it).</exception>
    public static void Export(nn.Module network, string architecture, IReadOnlyList<string> classes, string path)
    {
        OnnxExporter.Write(Build(network, architecture, classes), path);
    }

    /// <summary>The ONNX model in memory (what <see cref="Export"/> writes); the batch axis is dynamic.</summary>
    public static ModelProto Build(nn.Module network, string architecture, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(classes);
        var graph = new OnnxGraph();
        foreach (var name in new[] { OnnxDetectorInfo.BoxesName, OnnxDetectorInfo.ObjectnessName, OnnxDetectorInfo.ClassScoresName })
            graph.Unique(name);
        var writer = new OnnxModuleWriter(graph);
        List<(OnnxValue Map, IReadOnlyList<(float W, float H)> Anchors)> heads;
        int width, height, k;
        bool darknet;
        string? cfg;
        using (no_grad())
        using (NewDisposeScope())
        {
            switch (network)
            {
                case YoloModel model:
                    (width, height, k, darknet, cfg) = (model.InputSize, model.InputSize, model.Classes, false, model.CfgText);
                    heads = WriteDarknet(graph, model.Network, Input(graph, width, height));
                    break;
                case YoloBackboneModel model:
                    (width, height, k, darknet, cfg) = (model.InputSize, model.InputSize, model.Classes, false, model.CfgText);
                    heads = WriteBackboneModel(graph, writer, model, Input(graph, width, height));
                    break;
                case DarknetNetwork net:
                    if (net.YoloLayers.Count == 0) throw new OnnxExportException($"cannot export {net.Config.Name}.cfg as a detector: it has no [yolo] layer");
                    if (net.Channels != 3) throw new OnnxExportException($"cannot export {net.Config.Name}.cfg as a detector: it needs channels=3. Received: channels={net.Channels}");
                    (width, height, k, darknet, cfg) = (net.Width, net.Height, net.YoloLayers[0].Classes, true, null);
                    if (net.YoloLayers.Any(y => y.Classes != k)) throw new OnnxExportException($"cannot export {net.Config.Name}.cfg: its [yolo] layers disagree on classes");
                    heads = WriteDarknet(graph, net, Input(graph, width, height));
                    break;
                default:
                    throw new OnnxExportException($"cannot export a {network.GetType().Name} as a detector: supported are YoloModel, YoloBackboneModel and DarknetNetwork");
            }
        }
        if (classes.Count != k)
            throw new OnnxExportException($"cannot export: {classes.Count} class names for a detector with {k} classes");
        float? cap = darknet ? null : YoloNet.MaxLogSize;
        long rows = WriteDecode(graph, heads, k, width, height, cap);
        graph.AddOutput(OnnxGraph.TensorInfo(OnnxDetectorInfo.BoxesName, null, rows, 4));
        graph.AddOutput(OnnxGraph.TensorInfo(OnnxDetectorInfo.ObjectnessName, null, rows));
        graph.AddOutput(OnnxGraph.TensorInfo(OnnxDetectorInfo.ClassScoresName, null, rows, k));

        var metadata = new List<(string, string)>
        {
            (OnnxModelInfo.FormatKey, OnnxModelInfo.FormatName),
            (OnnxModelInfo.VersionKey, typeof(OnnxDetectorExporter).Assembly.GetName().Version?.ToString() ?? "0"),
            (OnnxModelInfo.ArchitectureKey, architecture),
            (OnnxModelInfo.TaskKey, OnnxDetectorInfo.DetectionTask),
            (OnnxModelInfo.NumClassesKey, k.ToString(CultureInfo.InvariantCulture)),
            (OnnxModelInfo.ClassesKey, JsonSerializer.Serialize(classes)),
            (OnnxDetectorInfo.InputWidthKey, width.ToString(CultureInfo.InvariantCulture)),
            (OnnxDetectorInfo.InputHeightKey, height.ToString(CultureInfo.InvariantCulture)),
            (OnnxDetectorInfo.AnchorsKey, JsonSerializer.Serialize(heads.Select(h => h.Anchors.Select(a => new[] { a.W, a.H })))),
            (OnnxDetectorInfo.GridsKey, JsonSerializer.Serialize(heads.Select(h => new[] { h.Map.Height, h.Map.Width }))),
            (OnnxDetectorInfo.LetterboxKey, darknet ? OnnxDetectorInfo.DarknetLetterbox : OnnxDetectorInfo.SharpVisionLetterbox),
            (OnnxDetectorInfo.MaxLogSizeKey, cap is { } c ? c.ToString(CultureInfo.InvariantCulture) : "none"),
            (OnnxModelInfo.OutputsKey, Outputs(width, height, rows, k)),
        };
        if (cfg is not null) metadata.Add((OnnxDetectorInfo.CfgKey, cfg));
        return OnnxExporter.Model(graph, $"{architecture} YOLOv3 detector. {Outputs(width, height, rows, k)}", metadata);
    }

    private static string Outputs(int width, int height, long rows, int k) =>
        $"input: [N, 3, {height}, {width}] float32 RGB 0..1, letterboxed; boxes: [N, {rows}, 4] centre x, centre y, width, height in input pixels; " +
        $"objectness: [N, {rows}] 0..1; class_scores: [N, {rows}, {k}] class probabilities (score of class c = objectness x class_scores[c]); " +
        "rows in Darknet's order: head, cell (row-major), anchor";

    private static OnnxValue Input(OnnxGraph graph, int width, int height)
    {
        graph.AddInput(OnnxGraph.TensorInfo(OnnxModelInfo.InputName, null, 3, height, width));
        return new OnnxValue(OnnxModelInfo.InputName, [3, height, width]);
    }

    // ---- networks ---------------------------------------------------------------------------------------

    /// <summary>Every layer of a Darknet network, Darknet's forward; returns each [yolo] layer's input (the raw head map) with its anchors.</summary>
    private static List<(OnnxValue, IReadOnlyList<(float W, float H)>)> WriteDarknet(OnnxGraph graph, DarknetNetwork net, OnnxValue x)
    {
        var outputs = new List<OnnxValue>();
        var heads = new List<(OnnxValue, IReadOnlyList<(float W, float H)>)>();
        var layers = net.Layers;
        int last = Enumerable.Range(0, layers.Count).Last(i => layers[i] is YoloLayer);
        for (int i = 0; i <= last; i++)
        {
            string path = $"network.layers.{i}";
            x = layers[i] switch
            {
                DarknetConvolutional c => WriteDarknetConv(graph, path, c, x),
                DarknetMaxpool m => WriteDarknetMaxpool(graph, path, m, x),
                DarknetUpsample u => Upsample(graph, path, x, u.Stride, u.Scale),
                DarknetRoute r => r.Sources.Count == 1
                    ? outputs[r.Sources[0]]
                    : new OnnxValue(graph.AddNode("Concat", path, r.Sources.Select(s => outputs[s].Name), A.Int("axis", 1)),
                        [r.Sources.Sum(s => outputs[s].Channels), outputs[r.Sources[0]].Height, outputs[r.Sources[0]].Width]),
                DarknetShortcut s => WriteShortcut(graph, path, s, x, outputs[s.From]),
                DarknetIdentity => x,
                YoloLayer y => RecordHead(heads, x, y),
                var other => throw new OnnxExportException($"cannot export layer {i} ([{other.Kind}]) of {net.Config.Name}.cfg to ONNX: no converter for this layer type in a detector"),
            };
            outputs.Add(x);
        }
        return heads;
    }

    private static OnnxValue RecordHead(List<(OnnxValue, IReadOnlyList<(float W, float H)>)> heads, OnnxValue x, YoloLayer y)
    {
        heads.Add((x, y.Anchors));
        return x; // the logistic is part of the decoding
    }

    private static OnnxValue WriteDarknetConv(OnnxGraph graph, string path, DarknetConvolutional c, OnnxValue x)
    {
        string weight = graph.AddInitializer(path + ".weights", OnnxModuleWriter.Floats(c.Weights), c.Filters, c.InChannels / c.Groups, c.Size, c.Size);
        long p = c.Padding;
        string y = graph.AddNode("Conv", path, [x.Name, weight], A.Ints("kernel_shape", c.Size, c.Size), A.Ints("strides", c.Stride, c.Stride),
            A.Ints("pads", p, p, p, p), A.Int("group", c.Groups));
        long oh = (x.Height + 2 * p - c.Size) / c.Stride + 1, ow = (x.Width + 2 * p - c.Size) / c.Stride + 1;
        long[] perChannel = [1, c.Filters, 1, 1];
        if (c.BatchNormalize)
        {
            // Darknet's inference BatchNorm in its own order: (y - mean) / (sqrt(var) + 1e-6) * scale + bias.
            float[] std;
            using (var s = c.RollingVariance!.sqrt().add(Scalars.Of(DarknetConvolutional.BatchNormEpsilon)))
                std = OnnxModuleWriter.Floats(s);
            y = graph.AddNode("Sub", path + ".normalize", [y, graph.AddInitializer(path + ".rolling_mean", OnnxModuleWriter.Floats(c.RollingMean!), perChannel)]);
            y = graph.AddNode("Div", path + ".standardize", [y, graph.AddInitializer(path + ".rolling_std", std, perChannel)]);
            y = graph.AddNode("Mul", path + ".scale", [y, graph.AddInitializer(path + ".scales", OnnxModuleWriter.Floats(c.Scales!), perChannel)]);
        }
        y = graph.AddNode("Add", path + ".bias", [y, graph.AddInitializer(path + ".biases", OnnxModuleWriter.Floats(c.Biases), perChannel)]);
        return Activate(graph, path, new OnnxValue(y, [c.Filters, oh, ow]), c.Activation);
    }

    private static OnnxValue Activate(OnnxGraph graph, string path, OnnxValue x, DarknetActivation activation) => activation switch
    {
        DarknetActivation.Linear => x,
        DarknetActivation.Leaky => x with { Name = graph.AddNode("LeakyRelu", path + ".leaky", [x.Name], A.Float("alpha", .1f)) },
        DarknetActivation.Relu => x with { Name = graph.AddNode("Relu", path + ".relu", [x.Name]) },
        DarknetActivation.Logistic => x with { Name = graph.AddNode("Sigmoid", path + ".logistic", [x.Name]) },
        _ => throw new OnnxExportException($"cannot export {path}: activation {activation} has no ONNX converter"),
    };

    /// <summary>
    /// Darknet's maxpool geometry (see <see cref="DarknetMaxpool"/>): window from <c>-padding/2</c>, out = (in + padding -
    /// size) / stride + 1; ONNX MaxPool ignores padded cells like Darknet's -inf. A negative trailing pad becomes a crop.
    /// </summary>
    private static OnnxValue WriteDarknetMaxpool(OnnxGraph graph, string path, DarknetMaxpool m, OnnxValue x)
    {
        long before = m.Padding / 2;
        long oh = (x.Height + m.Padding - m.Size) / m.Stride + 1, ow = (x.Width + m.Padding - m.Size) / m.Stride + 1;
        long afterH = (oh - 1) * m.Stride + m.Size - x.Height - before, afterW = (ow - 1) * m.Stride + m.Size - x.Width - before;
        long[] pads = [before, before, Math.Max(0, afterH), Math.Max(0, afterW)];
        string y = graph.AddNode("MaxPool", path, [x.Name], A.Ints("kernel_shape", m.Size, m.Size), A.Ints("strides", m.Stride, m.Stride), A.Ints("pads", pads));
        long ph = (x.Height + pads[0] + pads[2] - m.Size) / m.Stride + 1, pw = (x.Width + pads[1] + pads[3] - m.Size) / m.Stride + 1;
        if (ph != oh || pw != ow)
            y = graph.AddNode("Slice", path + ".crop", [y, graph.AddInt64Initializer(path + ".starts", 0, 0),
                graph.AddInt64Initializer(path + ".ends", oh, ow), graph.AddInt64Initializer(path + ".axes", 2, 3)]);
        return new OnnxValue(y, [x.Channels, oh, ow]);
    }

    /// <summary>Nearest-neighbour by an integer factor (each cell repeated stride x stride times), then times <paramref name="scale"/>.</summary>
    private static OnnxValue Upsample(OnnxGraph graph, string path, OnnxValue x, int stride, float scale)
    {
        string scales = graph.AddInitializer(path + ".scales", [1f, 1f, stride, stride], 4);
        string y = graph.AddNode("Resize", path, [x.Name, "", scales], A.String("mode", "nearest"),
            A.String("coordinate_transformation_mode", "asymmetric"), A.String("nearest_mode", "floor"));
        if (scale != 1) y = graph.AddNode("Mul", path + ".scale", [y, graph.AddInitializer(path + ".scale_value", [scale])]);
        return new OnnxValue(y, [x.Channels, x.Height * stride, x.Width * stride]);
    }

    private static OnnxValue WriteShortcut(OnnxGraph graph, string path, DarknetShortcut s, OnnxValue previous, OnnxValue from)
    {
        string a = s.Alpha == 1 ? previous.Name : graph.AddNode("Mul", path + ".alpha", [previous.Name, graph.AddInitializer(path + ".alpha_value", [s.Alpha])]);
        string b = s.Beta == 1 ? from.Name : graph.AddNode("Mul", path + ".beta", [from.Name, graph.AddInitializer(path + ".beta_value", [s.Beta])]);
        return Activate(graph, path, previous with { Name = graph.AddNode("Add", path, [a, b]) }, s.Activation);
    }

    /// <summary>Mirrors <see cref="YoloBackboneModel"/>'s forward: normalisation, ResNet stages, the two heads.</summary>
    private static List<(OnnxValue, IReadOnlyList<(float W, float H)>)> WriteBackboneModel(OnnxGraph graph, OnnxModuleWriter writer, YoloBackboneModel model, OnnxValue x)
    {
        var children = model.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
        nn.Module Child(string name) => children.TryGetValue(name, out var m) ? m : throw new OnnxExportException($"cannot export {model.GetType().Name}: no submodule '{name}'");
        if (model.Bgr)
            x = x with { Name = graph.AddNode("Gather", "bgr", [x.Name, graph.AddInt64Initializer("bgr.indices", 2, 1, 0)], A.Int("axis", 1)) };
        long[] perChannel = [1, 3, 1, 1];
        x = x with { Name = graph.AddNode("Sub", "normalize.mean", [x.Name, graph.AddInitializer("normalize.mean_value", OnnxModuleWriter.Floats(model.InputMean), perChannel)]) };
        x = x with { Name = graph.AddNode("Div", "normalize.std", [x.Name, graph.AddInitializer("normalize.std_value", OnnxModuleWriter.Floats(model.InputStd), perChannel)]) };
        var backbone = Child("backbone");
        var stages = backbone.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);
        foreach (string name in new[] { "conv1", "bn1", "relu", "maxpool" })
            x = writer.Write("backbone." + name, stages[name], x);                                  // [B, 64, S/4, S/4]
        var stageOutputs = new List<OnnxValue>();
        foreach (string name in new[] { "layer1", "layer2", "layer3", "layer4" })
        {
            x = writer.Write("backbone." + name, stages[name], x);
            stageOutputs.Add(x);
        }
        var head32 = ((Sequential)Child("head32")).named_children().ToList();
        var first = writer.Write("head32.0", head32[0].module, stageOutputs[3]);                       // [B, 256, S/32, S/32]
        var f32 = writer.Write("head32.1", head32[1].module, first);                                   // [B, 512, S/32, S/32]
        var p32 = writer.Write("out32", Child("out32"), f32);                                          // [B, 3*(5+K), S/32, S/32]
        var lateral = ((Sequential)Child("lateral")).named_children().ToList();
        var up = writer.Write("lateral.0", lateral[0].module, first);                                  // [B, 128, S/32, S/32]
        if (lateral[1].module is not TorchSharp.Modules.Upsample) throw new OnnxExportException("cannot export: lateral.1 is not an Upsample");
        up = Upsample(graph, "lateral.1", up, 2, 1);                                                   // [B, 128, S/16, S/16]
        var joined = new OnnxValue(graph.AddNode("Concat", "head16.input", [up.Name, stageOutputs[2].Name], A.Int("axis", 1)),
            [up.Channels + stageOutputs[2].Channels, up.Height, up.Width]);
        var f16 = writer.Write("head16", Child("head16"), joined);                                     // [B, 256, S/16, S/16]
        var p16 = writer.Write("out16", Child("out16"), f16);                                          // [B, 3*(5+K), S/16, S/16]
        return [(p32, model.Heads[0].Anchors), (p16, model.Heads[1].Anchors)];
    }

    // ---- decoding ---------------------------------------------------------------------------------------

    /// <summary>
    /// Raw head maps [N, A*(5+K), H, W] -> rows in (head, cell, anchor) order, then the decoded outputs with
    /// <c>YoloDecoder.DecodeMaps</c>' arithmetic: centre = (cell + sigmoid(t)) / grid * input, size =
    /// exp(min(t, cap)) * anchor, objectness and class probabilities = sigmoid. Returns P.
    /// </summary>
    private static long WriteDecode(OnnxGraph graph, List<(OnnxValue Map, IReadOnlyList<(float W, float H)> Anchors)> heads, int k, int width, int height, float? cap)
    {
        var parts = new List<string>();
        long rows = 0;
        var cell = new List<float>();
        var grid = new List<float>();
        var anchor = new List<float>();
        for (int h = 0; h < heads.Count; h++)
        {
            var (map, anchors) = heads[h];
            long a = anchors.Count, gh = map.Height, gw = map.Width, plane = gh * gw;
            if (map.Channels != a * (5 + k))
                throw new OnnxExportException($"cannot export head {h}: it has {map.Channels} channels, not {a}*(5+{k})");
            string stem = $"head{h}";
            string y = graph.AddNode("Reshape", stem + ".split", [map.Name, graph.AddInt64Initializer(stem + ".split_shape", 0, a, 5 + k, plane)]); // [N, A, 5+K, H*W]
            y = graph.AddNode("Transpose", stem + ".cells_first", [y], A.Ints("perm", 0, 3, 1, 2));                                                 // [N, H*W, A, 5+K]
            y = graph.AddNode("Reshape", stem + ".rows", [y, graph.AddInt64Initializer(stem + ".rows_shape", 0, plane * a, 5 + k)]);              // [N, H*W*A, 5+K]
            parts.Add(y);
            for (long i = 0; i < plane; i++)
                for (int j = 0; j < a; j++)
                {
                    cell.AddRange([i % gw, i / gw]);
                    grid.AddRange([gw, gh]);
                    anchor.AddRange([anchors[j].W, anchors[j].H]);
                }
            rows += plane * a;
        }
        string raw = parts.Count == 1 ? parts[0] : graph.AddNode("Concat", "rows", parts, A.Int("axis", 1));                                      // [N, P, 5+K]
        string Slice(string stem, long start, long end) => graph.AddNode("Slice", stem, [raw, graph.AddInt64Initializer(stem + ".starts", start),
            graph.AddInt64Initializer(stem + ".ends", end), graph.AddInt64Initializer(stem + ".axes", 2)]);
        string xy = graph.AddNode("Sigmoid", "xy", [Slice("txy", 0, 2)]);                                                                       // [N, P, 2]
        xy = graph.AddNode("Add", "xy.cell", [xy, graph.AddInitializer("cell", [.. cell], rows, 2)]);
        xy = graph.AddNode("Div", "xy.relative", [xy, graph.AddInitializer("grid", [.. grid], rows, 2)]);
        xy = graph.AddNode("Mul", "xy.pixels", [xy, graph.AddInitializer("input_size", [width, height], 2)]);
        string wh = Slice("twh", 2, 4);                                                                                                         // [N, P, 2]
        if (cap is { } c) wh = graph.AddNode("Min", "twh.capped", [wh, graph.AddInitializer("max_log_size", [c])]);
        wh = graph.AddNode("Exp", "wh.scale", [wh]);
        wh = graph.AddNode("Mul", "wh.pixels", [wh, graph.AddInitializer("anchor", [.. anchor], rows, 2)]);
        OnnxExporter.AddOutputNode(graph, "Concat", [xy, wh], OnnxDetectorInfo.BoxesName, A.Int("axis", 2));                                                     // [N, P, 4]
        string objectness = graph.AddNode("Sigmoid", "objectness.probability", [Slice("tobj", 4, 5)]);                                         // [N, P, 1]
        OnnxExporter.AddOutputNode(graph, "Reshape", [objectness, graph.AddInt64Initializer("objectness.shape", 0, rows)], OnnxDetectorInfo.ObjectnessName);     // [N, P]
        OnnxExporter.AddOutputNode(graph, "Sigmoid", [Slice("tcls", 5, 5 + k)], OnnxDetectorInfo.ClassScoresName);                                              // [N, P, K]
        return rows;
    }
}
