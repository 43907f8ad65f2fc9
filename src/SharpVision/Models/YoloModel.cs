using System.Globalization;
using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpVision.Models;

/// <summary>
/// Darknet cfg text for the built-in YOLOv3 detectors, for any class count, input size and anchors: so a trained
/// detector is rebuilt from its cfg text, and its backbone layers line up with Darknet's <c>.weights</c>.
/// </summary>
public static class YoloCfg
{
    /// <summary>Darknet's YOLOv3 anchors (COCO, 416 px input), small to large.</summary>
    public static IReadOnlyList<(float W, float H)> Yolov3Anchors { get; } =
        [(10, 13), (16, 30), (33, 23), (30, 61), (62, 45), (59, 119), (116, 90), (156, 198), (373, 326)];

    /// <summary>Darknet's YOLOv3-tiny anchors (COCO, 416 px input), small to large.</summary>
    public static IReadOnlyList<(float W, float H)> TinyAnchors { get; } =
        [(10, 14), (23, 27), (37, 58), (81, 82), (135, 169), (344, 319)];

    /// <summary>The built-in detector names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["yolov3", "yolov3-tiny", "yolov3-tiny-half", "yolov3-tiny-quarter"];

    /// <summary>True when <paramref name="name"/> is a built-in detector.</summary>
    public static bool IsBuiltIn(string name) => Names.Contains(name);

    /// <summary>How many anchors a built-in detector uses (9 for yolov3, 6 for the tiny ones).</summary>
    public static int AnchorCount(string name) => name == "yolov3" ? 9 : 6;

    /// <summary>Default anchors of a built-in detector, scaled from 416 px to <paramref name="size"/>.</summary>
    public static IReadOnlyList<(float W, float H)> DefaultAnchors(string name, int size)
    {
        var a = name == "yolov3" ? Yolov3Anchors : TinyAnchors;
        float k = size / 416f;
        return a.Select(p => (MathF.Round(p.W * k, 1), MathF.Round(p.H * k, 1))).ToList();
    }

    /// <summary>The cfg text of a built-in detector.</summary>
    public static string Build(string name, int classes, int size, IReadOnlyList<(float W, float H)> anchors) => name switch
    {
        "yolov3" => Yolov3(classes, size, anchors),
        "yolov3-tiny" => Tiny(classes, size, anchors, 1),
        "yolov3-tiny-half" => Tiny(classes, size, anchors, .5),
        "yolov3-tiny-quarter" => Tiny(classes, size, anchors, .25),
        _ => throw new InvalidOptionException("YoloModel.Model", "one of " + string.Join(", ", Names) + ", or a .cfg file", name),
    };

    /// <summary>
    /// YOLOv3-tiny (Darknet's <c>yolov3-tiny.cfg</c> layout: 7 conv+maxpool stages, heads at strides 32 and 16),
    /// with every hidden width multiplied by <paramref name="width"/> (0.5 = a 4x cheaper net for small data).
    /// </summary>
    public static string Tiny(int classes, int size, IReadOnlyList<(float W, float H)> anchors, double width)
    {
        CheckArgs(classes, size, anchors, 6);
        int W(int f) => Math.Max(8, (int)Math.Round(f * width));
        var b = new CfgBuilder(size);
        int[] stages = [16, 32, 64, 128, 256, 512];
        for (int i = 0; i < stages.Length; i++)
        {
            b.Conv(W(stages[i]), 3, 1);
            b.Section("maxpool", ("size", "2"), ("stride", i == 5 ? "1" : "2"));
        }
        // Layer 8 is the stride-16 conv the second head routes back to.
        b.Conv(W(1024), 3, 1);
        b.Conv(W(256), 1, 1);
        b.Conv(W(512), 3, 1);
        b.Head(classes, anchors, [3, 4, 5]);
        b.Section("route", ("layers", "-4"));
        b.Conv(W(128), 1, 1);
        b.Section("upsample", ("stride", "2"));
        b.Section("route", ("layers", "-1, 8"));
        b.Conv(W(256), 3, 1);
        b.Head(classes, anchors, [0, 1, 2]);
        return b.ToString();
    }

    /// <summary>YOLOv3: the Darknet-53 backbone (52 convolutions, 23 residual blocks) and three heads at strides 32, 16, 8.</summary>
    public static string Yolov3(int classes, int size, IReadOnlyList<(float W, float H)> anchors)
    {
        CheckArgs(classes, size, anchors, 9);
        var b = new CfgBuilder(size);
        b.Conv(32, 3, 1);
        int[] blocks = [1, 2, 8, 8, 4];
        var stageEnds = new int[5];
        for (int s = 0; s < 5; s++)
        {
            int c = 64 << s;
            b.Conv(c, 3, 2);
            for (int r = 0; r < blocks[s]; r++)
            {
                b.Conv(c / 2, 1, 1);
                b.Conv(c, 3, 1);
                b.Section("shortcut", ("from", "-3"), ("activation", "linear"));
            }
            stageEnds[s] = b.Count - 1;
        }
        int[][] masks = [[6, 7, 8], [3, 4, 5], [0, 1, 2]];
        for (int h = 0; h < 3; h++)
        {
            int c = 512 >> h;
            if (h > 0)
            {
                b.Section("route", ("layers", "-4"));
                b.Conv(c, 1, 1);
                b.Section("upsample", ("stride", "2"));
                b.Section("route", ("layers", $"-1, {stageEnds[4 - h]}"));
            }
            for (int k = 0; k < 3; k++)
            {
                b.Conv(c, 1, 1);
                b.Conv(2 * c, 3, 1);
            }
            b.Head(classes, anchors, masks[h]);
        }
        return b.ToString();
    }

    private static void CheckArgs(int classes, int size, IReadOnlyList<(float W, float H)> anchors, int count)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), "a detector needs at least one class");
        if (size < 32 || size % 32 != 0) throw new InvalidOptionException("YoloModel.ImgSize", "a multiple of 32 (>= 32)", size.ToString(CultureInfo.InvariantCulture));
        if (anchors.Count != count) throw new InvalidOptionException("YoloModel.Anchors", $"{count} width,height pairs for this model", $"{anchors.Count} pairs");
    }

    private sealed class CfgBuilder
    {
        private readonly StringBuilder _text = new();

        public CfgBuilder(int size)
        {
            _text.Append(CultureInfo.InvariantCulture, $"[net]\nwidth={size}\nheight={size}\nchannels=3\n");
        }

        public int Count { get; private set; }

        public void Section(string type, params (string Key, string Value)[] options)
        {
            _text.Append('\n').Append('[').Append(type).Append("]\n");
            foreach (var (k, v) in options) _text.Append(k).Append('=').Append(v).Append('\n');
            Count++;
        }

        public void Conv(int filters, int size, int stride) => Section("convolutional", ("batch_normalize", "1"),
            ("filters", filters.ToString(CultureInfo.InvariantCulture)), ("size", size.ToString(CultureInfo.InvariantCulture)),
            ("stride", stride.ToString(CultureInfo.InvariantCulture)), ("pad", "1"), ("activation", "leaky"));

        public void Head(int classes, IReadOnlyList<(float W, float H)> anchors, int[] mask)
        {
            Section("convolutional", ("size", "1"), ("stride", "1"), ("pad", "1"),
                ("filters", (mask.Length * (5 + classes)).ToString(CultureInfo.InvariantCulture)), ("activation", "linear"));
            Section("yolo", ("mask", string.Join(",", mask)), ("anchors", string.Join(", ", anchors.Select(a => F(a.W) + "," + F(a.H)))),
                ("classes", classes.ToString(CultureInfo.InvariantCulture)), ("num", anchors.Count.ToString(CultureInfo.InvariantCulture)));
        }

        private static string F(float v) => v.ToString("0.##", CultureInfo.InvariantCulture);

        public override string ToString() => _text.ToString();
    }
}

/// <summary>One YOLO head of a <see cref="YoloModel"/>: its grid, its anchors (input pixels) and where its rows sit in the model's output.</summary>
/// <param name="GridH">Grid rows.</param>
/// <param name="GridW">Grid columns.</param>
/// <param name="Mask">Indices of its anchors in the model's full anchor list.</param>
/// <param name="Anchors">Its anchors, width and height in input pixels.</param>
/// <param name="Offset">First row of this head in the [B, N, 5+K] output.</param>
public sealed record YoloHeadInfo(int GridH, int GridW, IReadOnlyList<int> Mask, IReadOnlyList<(float W, float H)> Anchors, int Offset)
{
    /// <summary>Rows of this head: anchors x rows x columns.</summary>
    public int Rows => Anchors.Count * GridH * GridW;
}

/// <summary>
/// A YOLOv3 detector network: <c>forward</c> maps [B, 3, S, S] RGB in 0..1 (letterboxed) to the raw outputs of
/// every head (logits for x, y, objectness and classes; log-scale w, h), flattened to [B, N, 5+K] with rows in
/// (head, anchor, row, column) order, which is what <c>YoloLoss</c> and <see cref="Decode"/> read.
/// </summary>
public abstract class YoloNet(string name) : nn.Module<Tensor, Tensor>(name)
{
    /// <summary>The heads, in output order.</summary>
    public IReadOnlyList<YoloHeadInfo> Heads { get; private set; } = [];
    /// <summary>Every anchor, indexed like the heads' masks.</summary>
    public IReadOnlyList<(float W, float H)> AllAnchors { get; private set; } = [];
    /// <summary>Number of classes K.</summary>
    public int Classes { get; private set; }
    /// <summary>Rows N of the output (all heads' anchors x cells).</summary>
    public int Rows { get; private set; }
    /// <summary>Square input side in pixels.</summary>
    public int InputSize { get; private set; }

    /// <summary>The text the network is rebuilt from (a Darknet cfg, or a backbone detector's definition), stored in the model file.</summary>
    public abstract string CfgText { get; }

    /// <summary>Parameters of the backbone (frozen in the first stage of <c>--fine-tune</c>).</summary>
    public abstract IEnumerable<Parameter> BackboneParameters();

    /// <summary>Records the heads (in output order), the class count and the input size.</summary>
    protected void SetHeads(IReadOnlyList<YoloHeadInfo> heads, int classes, int inputSize)
    {
        Heads = heads;
        Classes = classes;
        InputSize = inputSize;
        BuiltInputSize = inputSize;
        Rows = heads.Sum(h => h.Rows);
        AllAnchors = heads.SelectMany(h => h.Mask.Zip(h.Anchors)).OrderBy(p => p.First).Select(p => p.Second).ToList();
    }

    /// <summary>The input side the network was built for (what it is saved, exported and evaluated at).</summary>
    public int BuiltInputSize { get; private set; }

    /// <summary>The coarsest head's stride: input sides must be multiples of it (32 for YOLOv3).</summary>
    public int MaxStride => Heads.Max(h => InputSize / h.GridW);

    /// <summary>
    /// Runs the network at another square input side (multi-scale training): the heads' grids, the output's rows and
    /// <see cref="InputSize"/> follow it (anchors stay in pixels). <see cref="BuiltInputSize"/> puts it back. The
    /// weights are the same at every size: YOLOv3 is fully convolutional.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not a positive multiple of <see cref="MaxStride"/>.</exception>
    public void SetInputSize(int size)
    {
        if (size == InputSize) return;
        int maxStride = MaxStride;
        if (size < maxStride || size % maxStride != 0)
            throw new ArgumentOutOfRangeException(nameof(size), size, $"the input side must be a positive multiple of {maxStride}");
        var heads = new List<YoloHeadInfo>(Heads.Count);
        int offset = 0;
        foreach (var h in Heads)
        {
            int stride = InputSize / h.GridW;
            var resized = h with { GridH = size / stride, GridW = size / stride, Offset = offset };
            heads.Add(resized);
            offset += resized.Rows;
        }
        Heads = heads;
        InputSize = size;
        Rows = offset;
    }

    /// <summary>Flattens one head's raw map [B, A*(5+K), H, W] to [B, A*H*W, 5+K].</summary>
    protected Tensor Flatten(Tensor raw, YoloHeadInfo head)
    {
        long b = raw.shape[0];
        return raw.view(b, head.Anchors.Count, 5 + Classes, head.GridH, head.GridW).permute(0, 1, 3, 4, 2).reshape(b, head.Rows, 5 + Classes);
    }

    /// <summary>
    /// Boxes in input pixels per image (validation mAP during training): the detectors' decoder and NMS stage
    /// (<see cref="YoloDecoder"/>, <see cref="Nms.Select"/>) with no letterbox to undo and no clipping.
    /// </summary>
    public List<List<ScoredBox>> Decode(Tensor raw, float confidence, float iou, int maxPerImage = 100)
    {
        using var scope = NewDisposeScope();
        var maps = HeadMaps(raw.detach());
        var anchors = Heads.Select(h => h.Anchors).ToList();
        var result = new List<List<ScoredBox>>((int)raw.shape[0]);
        for (int i = 0; i < raw.shape[0]; i++)
        {
            var candidates = YoloDecoder.Decode(anchors, Classes, maps, i, InputSize, InputSize, confidence, MaxLogSize);
            var corners = candidates.Select(c => Corners(c.X * InputSize, c.Y * InputSize, c.W * InputSize, c.H * InputSize)).ToList();
            result.Add(Nms.Select(corners, candidates.Select(c => c.Probabilities).ToList(), confidence, iou, max: maxPerImage));
        }
        return result;
    }

    /// <summary>Cap on the raw w, h before <c>exp</c> (e^10 = 22026 anchors), so a wild output cannot overflow to infinity.</summary>
    public const float MaxLogSize = 10;

    private static (float, float, float, float) Corners(float cx, float cy, float w, float h) => (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);

    /// <summary>
    /// Raw [B, N, 5+K] -> one map per head [B, A*(5+K), H, W] with the logistic applied to x, y, objectness and
    /// classes (w, h raw): what a Darknet <c>[yolo]</c> layer outputs, so one decoder serves both kinds of network.
    /// </summary>
    public Tensor[] HeadMaps(Tensor raw)
    {
        long b = raw.shape[0];
        var maps = new Tensor[Heads.Count];
        for (int h = 0; h < Heads.Count; h++)
        {
            var head = Heads[h];
            int a = head.Anchors.Count;
            var grid = raw.narrow(1, head.Offset, head.Rows)                                           // [B, A*H*W, 5+K]
                .reshape(b, a, head.GridH, head.GridW, 5 + Classes).permute(0, 1, 4, 2, 3);        // [B, A, 5+K, H, W]
            var xy = F.sigmoid(grid[.., .., 0..2]);
            var rest = F.sigmoid(grid[.., .., 4..]);
            maps[h] = cat([xy, grid[.., .., 2..4], rest], 2).reshape(b, a * (5 + Classes), head.GridH, head.GridW);
        }
        return maps;
    }

    /// <summary>
    /// Raw [B, N, 5+K] -> boxes [B, N, 4] (centre x, y, width, height in input pixels), objectness [B, N] and class
    /// probabilities [B, N, K]; keras-yolo3's <c>yolo_head</c>.
    /// </summary>
    public (Tensor Boxes, Tensor Objectness, Tensor Classes) DecodeTensors(Tensor raw)
    {
        var (grid, anchors, stride) = GridTensors(raw.device);
        var xy = (F.sigmoid(raw[.., .., 0..2]) + grid) * stride;                                  // [B, N, 2]
        var wh = raw[.., .., 2..4].clamp_max(Scalars.Of(MaxLogSize)).exp() * anchors;                        // [B, N, 2]
        return (cat([xy, wh], 2), F.sigmoid(raw[.., .., 4]), F.sigmoid(raw[.., .., 5..]));
    }

    /// <summary>Per output row: its cell (column, row) [N, 2], its anchor (w, h) in input pixels [N, 2], and the head's stride [N, 2].</summary>
    public (Tensor Grid, Tensor Anchors, Tensor Stride) GridTensors(Device device)
    {
        var grid = new float[Rows * 2];
        var anchors = new float[Rows * 2];
        var stride = new float[Rows * 2];
        foreach (var head in Heads)
        {
            int r = head.Offset;
            for (int a = 0; a < head.Anchors.Count; a++)
                for (int y = 0; y < head.GridH; y++)
                    for (int x = 0; x < head.GridW; x++, r++)
                    {
                        grid[2 * r] = x;
                        grid[2 * r + 1] = y;
                        anchors[2 * r] = head.Anchors[a].W;
                        anchors[2 * r + 1] = head.Anchors[a].H;
                        stride[2 * r] = (float)InputSize / head.GridW;
                        stride[2 * r + 1] = (float)InputSize / head.GridH;
                    }
        }
        return (tensor(grid, [Rows, 2]).to(device), tensor(anchors, [Rows, 2]).to(device), tensor(stride, [Rows, 2]).to(device));
    }
}

/// <summary>
/// A trainable YOLOv3 detector over a <see cref="DarknetNetwork"/>: <c>forward</c> returns the raw outputs of
/// every head (the inputs of the <c>[yolo]</c> layers: logits for x, y, objectness, classes; log-scale w, h),
/// flattened to [B, N, 5+K] with rows in (head, anchor, row, column) order, which is what the loss and the
/// decoder read. Input: [B, 3, S, S] RGB in 0..1, letterboxed.
/// </summary>
public sealed class YoloModel : YoloNet
{
#pragma warning disable IDE1006 // the field name is the state_dict prefix
    private readonly DarknetNetwork network;
#pragma warning restore IDE1006
    private readonly int[] _headInputs;

    /// <summary>Builds the network of <paramref name="cfgText"/>, which must hold at least one <c>[yolo]</c> layer.</summary>
    public YoloModel(string cfgText, string name = "yolo") : base(name)
    {
        _cfgText = cfgText;
        network = new DarknetNetwork(DarknetConfig.ParseText(cfgText, name));
        var layers = network.Layers;
        var inputs = new List<int>();
        var heads = new List<YoloHeadInfo>();
        int offset = 0;
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is not YoloLayer y) continue;
            inputs.Add(i - 1);
            var (_, h, w) = y.OutShape;
            var info = new YoloHeadInfo(h, w, y.Mask, y.Anchors, offset);
            heads.Add(info);
            offset += info.Rows;
        }
        if (heads.Count == 0) throw new ModelDefinitionException($"{name}: the cfg has no [yolo] layer, so it is not a detector");
        int classes = layers.OfType<YoloLayer>().First().Classes;
        if (layers.OfType<YoloLayer>().Any(l => l.Classes != classes)) throw new ModelDefinitionException($"{name}: [yolo] layers disagree on classes");
        _headInputs = inputs.ToArray();
        if (network.Width != network.Height) throw new ModelDefinitionException($"{name}: only square inputs are supported. Received: {network.Width}x{network.Height}");
        SetHeads(heads, classes, network.Width);
        RegisterComponents();
        Initialize();
    }

    /// <summary>
    /// Fresh weights (the Darknet network starts at zero, ready for a weights file): He-normal convolutions as
    /// Darknet's <c>make_convolutional_layer</c> (scale sqrt(2 / fan-in)), and each head's objectness bias at
    /// log(0.01 / 0.99) so that training starts from "almost no object" instead of a large background loss.
    /// </summary>
    public void Initialize()
    {
        using var _ = no_grad();
        var convs = network.ConvolutionalLayers;
        foreach (var c in convs)
        {
            double fanIn = c.InChannels / c.Groups * c.Size * c.Size;
            c.Weights.normal_(0, Math.Sqrt(2 / fanIn));
            c.Biases.zero_();
        }
        var layers = network.Layers;
        foreach (int i in _headInputs)
        {
            if (layers[i] is not DarknetConvolutional head) continue;
            head.Weights.mul_(.01);
            for (int a = 0; a < head.Filters / (5 + Classes); a++)
                head.Biases[a * (5 + Classes) + 4].fill_(Math.Log(.01 / .99));
        }
    }

    private readonly string _cfgText;

    /// <summary>The cfg this model was built from (stored in the model file).</summary>
    public override string CfgText => _cfgText;

    /// <summary>Layers before the first head (see <see cref="BackboneLayerCount"/>).</summary>
    public override IEnumerable<Parameter> BackboneParameters() =>
        network.Layers.Take(BackboneLayerCount()).SelectMany(l => l.parameters());

    /// <summary>
    /// Layers of the backbone: up to the last layer before the first [yolo] that reduces resolution (stride-2 conv,
    /// maxpool) or is a shortcut, plus, for a tiny net, the convolution after its last maxpool.
    /// </summary>
    public int BackboneLayerCount()
    {
        var layers = network.Config.Layers;
        int firstYolo = Enumerable.Range(0, layers.Count).First(i => layers[i].Type == "yolo");
        int end = 0;
        for (int i = 0; i < firstYolo; i++)
        {
            var l = layers[i];
            bool reduces = l.Type is "maxpool" or "max" || (l.Type is "convolutional" or "conv" && l.Int("stride", 1) > 1);
            if (reduces || l.Type == "shortcut") end = i + 1;
        }
        if (end > 0 && end < firstYolo && layers[end].Type is "convolutional" or "conv" && layers[end - 1].Type is "maxpool" or "max") end++;
        return end;
    }
    /// <summary>The Darknet network.</summary>
    public DarknetNetwork Network => network;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        var layers = network.Layers;
        var outputs = new List<Tensor>(layers.Count);
        var current = x;
        int last = _headInputs[^1];
        for (int i = 0; i <= last; i++)
        {
            current = layers[i].Run(current, outputs);
            outputs.Add(current);
        }
        var parts = new Tensor[Heads.Count];
        for (int h = 0; h < Heads.Count; h++)
            parts[h] = Flatten(outputs[_headInputs[h]], Heads[h]);                               // [B, A*H*W, 5+K]
        return parts.Length == 1 ? parts[0] : cat(parts, 1);                                     // [B, N, 5+K]
    }
}
