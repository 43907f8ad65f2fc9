using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpVision.Models;

/// <summary>One <c>[section]</c> of a Darknet <c>.cfg</c> file: its type and its <c>key=value</c> options.</summary>
public sealed class DarknetSection(string type, int line, IReadOnlyDictionary<string, string> options)
{
    /// <summary>The name between brackets, lower case (<c>convolutional</c>, <c>net</c>, ...).</summary>
    public string Type { get; } = type;

    /// <summary>1-based line of the <c>[type]</c> header, for messages.</summary>
    public int Line { get; } = line;

    /// <summary>The options as written (keys lower case, values trimmed).</summary>
    public IReadOnlyDictionary<string, string> Options { get; } = options;

    /// <summary>An integer option, or <paramref name="fallback"/> when absent.</summary>
    public int Int(string key, int fallback)
    {
        if (!Options.TryGetValue(key, out var s)) return fallback;
        // Darknet reads integers with atoi, so "1.0" means 1; we accept a whole-number float but nothing else.
        if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)) return v;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d == Math.Floor(d)) return (int)d;
        throw Bad(key, "an integer", s);
    }

    /// <summary>A float option, or <paramref name="fallback"/> when absent.</summary>
    public float Float(string key, float fallback)
    {
        if (!Options.TryGetValue(key, out var s)) return fallback;
        return float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) ? v : throw Bad(key, "a number", s);
    }

    /// <summary>A string option, or <paramref name="fallback"/> when absent.</summary>
    public string Str(string key, string fallback) => Options.TryGetValue(key, out var s) ? s : fallback;

    /// <summary>A comma-separated integer list (<c>layers=-1, 8</c>), or null when absent.</summary>
    public int[]? IntList(string key)
    {
        if (!Options.TryGetValue(key, out var s)) return null;
        var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out result[i]))
                throw Bad(key, "a comma-separated list of integers", s);
        return result;
    }

    /// <summary>A comma-separated float list (<c>anchors=10,14, 23,27</c>), or null when absent.</summary>
    public float[]? FloatList(string key)
    {
        if (!Options.TryGetValue(key, out var s)) return null;
        var parts = s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var result = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]))
                throw Bad(key, "a comma-separated list of numbers", s);
        return result;
    }

    /// <summary>An error about this section, naming its line and type.</summary>
    public ModelDefinitionException Error(string message) => new($"[{Type}] at line {Line}: {message}");

    private ModelDefinitionException Bad(string key, string expected, string received) =>
        Error($"{key} must be {expected}. Received: {key}={received}");
}

/// <summary>
/// A parsed Darknet <c>.cfg</c>: the <c>[net]</c> section (input size) and the layer sections in order.
/// Comments start with <c>#</c> or <c>;</c>, like Darknet's own reader.
/// </summary>
public sealed class DarknetConfig
{
    private DarknetConfig(string name, DarknetSection net, IReadOnlyList<DarknetSection> layers)
    {
        Name = name;
        Net = net;
        Layers = layers;
    }

    /// <summary>The file name without extension (<c>yolov3-tiny</c>).</summary>
    public string Name { get; }

    /// <summary>The <c>[net]</c> (or <c>[network]</c>) section.</summary>
    public DarknetSection Net { get; }

    /// <summary>Every section after <c>[net]</c>: layer i of Darknet is <c>Layers[i]</c>.</summary>
    public IReadOnlyList<DarknetSection> Layers { get; }

    /// <summary>Network input width (<c>width=</c>).</summary>
    public int Width => Net.Int("width", 0);

    /// <summary>Network input height (<c>height=</c>).</summary>
    public int Height => Net.Int("height", 0);

    /// <summary>Input channels (<c>channels=</c>, default 3).</summary>
    public int Channels => Net.Int("channels", 3);

    /// <summary>Reads and parses a <c>.cfg</c> file; a missing file is a <see cref="ModelFileException"/>.</summary>
    public static DarknetConfig Parse(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFileException($"{path}: cannot read the Darknet cfg ({e.Message})", e);
        }
        return ParseText(text, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Parses the text of a <c>.cfg</c> file.</summary>
    public static DarknetConfig ParseText(string text, string name = "darknet")
    {
        var sections = new List<DarknetSection>();
        string? type = null;
        int typeLine = 0;
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            // Darknet strips every whitespace character, so "saturation = 1.5" is saturation=1.5.
            string line = string.Concat(raw.Where(c => !char.IsWhiteSpace(c)));
            if (line.Length == 0 || line[0] is '#' or ';') continue;
            if (line[0] == '[')
            {
                if (type != null) sections.Add(new DarknetSection(type, typeLine, options));
                if (!line.EndsWith(']'))
                    throw new ModelDefinitionException($"{name}.cfg line {lineNo}: section header must end with ']'. Received: {raw.Trim()}");
                type = line[1..^1].ToLowerInvariant();
                typeLine = lineNo;
                options = new Dictionary<string, string>(StringComparer.Ordinal);
                continue;
            }
            int eq = line.IndexOf('=');
            if (eq <= 0)
                throw new ModelDefinitionException($"{name}.cfg line {lineNo}: expected key=value. Received: {raw.Trim()}");
            if (type == null)
                throw new ModelDefinitionException($"{name}.cfg line {lineNo}: option before the first [section]");
            options[line[..eq].ToLowerInvariant()] = line[(eq + 1)..];
        }
        if (type != null) sections.Add(new DarknetSection(type, typeLine, options));
        if (sections.Count == 0 || sections[0].Type is not ("net" or "network"))
            throw new ModelDefinitionException($"{name}.cfg: the first section must be [net]");
        return new DarknetConfig(name, sections[0], sections.Skip(1).ToList());
    }
}

/// <summary>Darknet's activations (the ones the YOLOv3 and Darknet-53 cfgs use, plus a few simple others).</summary>
public enum DarknetActivation
{
    /// <summary>Identity.</summary>
    Linear,
    /// <summary><c>x &gt; 0 ? x : 0.1x</c>.</summary>
    Leaky,
    /// <summary><c>max(x, 0)</c>.</summary>
    Relu,
    /// <summary>Sigmoid.</summary>
    Logistic,
}

/// <summary>
/// One Darknet layer: a module from [B, C, H, W] to [B, OutC, OutH, OutW]. Route and shortcut layers read
/// earlier outputs, which <see cref="DarknetNetwork"/> passes in; the others use only their input.
/// </summary>
public abstract class DarknetLayer(string name) : nn.Module<Tensor, Tensor>(name)
{
    /// <summary>The cfg section type (<c>convolutional</c>, <c>route</c>, ...).</summary>
    public abstract string Kind { get; }

    /// <summary>Output channels, height and width for the network's input size.</summary>
    public (int C, int H, int W) OutShape { get; protected init; }

    /// <summary>Runs the layer with the outputs of all earlier layers at hand (route/shortcut need them).</summary>
    public virtual Tensor Run(Tensor input, IReadOnlyList<Tensor> earlier) => forward(input);

    internal static Tensor Activate(Tensor x, DarknetActivation a, bool inPlace = false) => a switch
    {
        DarknetActivation.Linear => x,
        // Tensor.leaky_relu(Scalar) with a long-lived Scalar: F.leaky_relu(x, double) makes a temporary one (see Scalars).
        DarknetActivation.Leaky => inPlace ? x.leaky_relu_(Scalars.Of(0.1)) : x.leaky_relu(Scalars.Of(0.1)),
        DarknetActivation.Relu => inPlace ? x.relu_() : F.relu(x),
        DarknetActivation.Logistic => inPlace ? x.sigmoid_() : F.sigmoid(x),
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    internal static DarknetActivation ParseActivation(DarknetSection s)
    {
        string a = s.Str("activation", "logistic");
        return a switch
        {
            "linear" => DarknetActivation.Linear,
            "leaky" => DarknetActivation.Leaky,
            "relu" => DarknetActivation.Relu,
            "logistic" => DarknetActivation.Logistic,
            _ => throw s.Error($"activation must be one of linear, leaky, relu, logistic. Received: activation={a}"),
        };
    }
}

/// <summary>
/// <c>[convolutional]</c>: convolution, then either Darknet's inference BatchNorm
/// <c>(x - mean) / (sqrt(var) + .000001) * scale + bias</c> (not PyTorch's <c>sqrt(var + eps)</c>) or a bias, then the activation.
/// Parameter names follow Darknet's fields: weights, biases, scales, rolling_mean, rolling_variance.
/// </summary>
public sealed class DarknetConvolutional : DarknetLayer
{
    /// <summary>Darknet's epsilon, added to the standard deviation (not the variance).</summary>
    public const float BatchNormEpsilon = .000001f;

    // Field names are the state_dict keys.
#pragma warning disable IDE1006
    private readonly Parameter weights;
    private readonly Parameter biases;
    private readonly Parameter? scales;
    private readonly Tensor? rolling_mean;
    private readonly Tensor? rolling_variance;
#pragma warning restore IDE1006

    internal DarknetConvolutional(DarknetSection s, int c, int h, int w) : base("convolutional")
    {
        Filters = s.Int("filters", 1);
        Size = s.Int("size", 1);
        Stride = s.Int("stride", 1);
        Groups = s.Int("groups", 1);
        // Darknet: pad=1 means size/2; otherwise the explicit padding= (default 0).
        Padding = s.Int("pad", 0) != 0 ? Size / 2 : s.Int("padding", 0);
        BatchNormalize = s.Int("batch_normalize", 0) != 0;
        Activation = ParseActivation(s);
        InChannels = c;
        if (Filters <= 0 || Size <= 0 || Stride <= 0 || Groups <= 0 || c % Groups != 0)
            throw s.Error($"filters, size, stride and groups must be positive and groups must divide the {c} input channels");
        weights = new Parameter(zeros(Filters, c / Groups, Size, Size));
        biases = new Parameter(zeros(Filters));
        if (BatchNormalize)
        {
            scales = new Parameter(ones(Filters));
            rolling_mean = zeros(Filters);
            rolling_variance = ones(Filters);
        }
        int oh = (h + 2 * Padding - Size) / Stride + 1, ow = (w + 2 * Padding - Size) / Stride + 1;
        OutShape = (Filters, oh, ow);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override string Kind => "convolutional";
    /// <summary>Output channels.</summary>
    public int Filters { get; }
    /// <summary>Input channels.</summary>
    public int InChannels { get; }
    /// <summary>Kernel side.</summary>
    public int Size { get; }
    /// <summary>Stride.</summary>
    public int Stride { get; }
    /// <summary>Zero padding on every side.</summary>
    public int Padding { get; }
    /// <summary>Channel groups.</summary>
    public int Groups { get; }
    /// <summary>True when followed by BatchNorm (then <see cref="Scales"/> etc. exist).</summary>
    public bool BatchNormalize { get; }
    /// <summary>The activation after BN/bias.</summary>
    public DarknetActivation Activation { get; }

    /// <summary>Kernel [Filters, InChannels/Groups, Size, Size] (Darknet stores it in this order too).</summary>
    public Parameter Weights => weights;
    /// <summary>Bias [Filters] (BN shift when <see cref="BatchNormalize"/>).</summary>
    public Parameter Biases => biases;
    /// <summary>BN scale [Filters], or null.</summary>
    public Parameter? Scales => scales;
    /// <summary>BN running mean [Filters], or null.</summary>
    public Tensor? RollingMean => rolling_mean;
    /// <summary>BN running variance [Filters], or null.</summary>
    public Tensor? RollingVariance => rolling_variance;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        var y = Conv2d.Apply(x, weights, null, Stride, Padding, Groups); // [B, Filters, OH, OW]
        // Without autograd nothing else reads the convolution's output: normalise and activate it in place, with
        // the same rounding and no temporaries per layer.
        bool inPlace = !is_grad_enabled();
        if (BatchNormalize && training)
        {
            // Training: batch statistics (fused); the rolling statistics follow with PyTorch's momentum 0.1
            // (Darknet's .01 is too slow for short runs).
            y = F.batch_norm(y, rolling_mean!, rolling_variance!, scales, biases, training: true, momentum: .1, eps: .00001);
        }
        else if (BatchNormalize)
        {
            // Inference: Darknet's normalize_cpu, scale_bias, add_bias order, so float rounding matches closely.
            // (Folding BN into the kernel was tried: its few-ulp differences, compounded over yolov3's 75 layers,
            // moved a near-threshold score by 3e-3 and broke parity with Darknet.)
            var mean = rolling_mean!.view(1, -1, 1, 1);
            var std = rolling_variance!.sqrt().add(Scalars.Of(BatchNormEpsilon)).view(1, -1, 1, 1);
            var scale = scales!.view(1, -1, 1, 1);
            var shift = biases.view(1, -1, 1, 1);
            y = inPlace ? y.sub_(mean).div_(std).mul_(scale).add_(shift) : y.sub(mean).div(std).mul(scale).add(shift);
        }
        else
        {
            y = inPlace ? y.add_(biases.view(1, -1, 1, 1)) : y.add(biases.view(1, -1, 1, 1));
        }
        return Activate(y, Activation, inPlace);
    }
}

/// <summary>
/// <c>[maxpool]</c> with Darknet's geometry: output side <c>(in + padding - size) / stride + 1</c> with padding
/// defaulting to <c>size - 1</c> and the window starting at <c>-padding/2</c>; cells outside the input count as -inf.
/// So yolov3-tiny's size=2 stride=1 pool keeps 13x13 (it pads one row and column at the bottom/right).
/// </summary>
public sealed class DarknetMaxpool : DarknetLayer
{
    private readonly long[] _pads;

    internal DarknetMaxpool(DarknetSection s, int c, int h, int w) : base("maxpool")
    {
        Size = s.Int("size", 1);
        Stride = s.Int("stride", 1);
        Padding = s.Int("padding", Size - 1);
        if (Size <= 0 || Stride <= 0) throw s.Error("size and stride must be positive");
        int oh = (h + Padding - Size) / Stride + 1, ow = (w + Padding - Size) / Stride + 1;
        OutShape = (c, oh, ow);
        int before = Padding / 2;
        // Pad so that a plain max_pool2d over the padded input reads exactly Darknet's windows.
        int afterW = (ow - 1) * Stride + Size - w - before, afterH = (oh - 1) * Stride + Size - h - before;
        _pads = [before, Math.Max(0, afterW), before, Math.Max(0, afterH)];
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override string Kind => "maxpool";
    /// <summary>Window side.</summary>
    public int Size { get; }
    /// <summary>Stride.</summary>
    public int Stride { get; }
    /// <summary>Darknet's total padding (default size - 1).</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        if (_pads.Any(p => p != 0)) x = F.pad(x, _pads, value: double.NegativeInfinity);
        var y = F.max_pool2d(x, [Size, Size], [Stride, Stride]);
        // Windows past the end (negative "after" padding) are dropped by cropping to Darknet's output size for this
        // input (the built size, or another one when a detector trains at several scales).
        long h = x.shape[2] - _pads[2] - _pads[3], w = x.shape[3] - _pads[0] - _pads[1];
        long oh = (h + Padding - Size) / Stride + 1, ow = (w + Padding - Size) / Stride + 1;
        return y.shape[2] == oh && y.shape[3] == ow ? y : y[.., .., ..(int)oh, ..(int)ow];
    }
}

/// <summary><c>[avgpool]</c>: global average over H and W, [B, C, H, W] -> [B, C, 1, 1].</summary>
public sealed class DarknetAvgpool : DarknetLayer
{
    internal DarknetAvgpool(int c) : base("avgpool")
    {
        OutShape = (c, 1, 1);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override string Kind => "avgpool";

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => x.mean([2, 3], keepdim: true);
}

/// <summary><c>[softmax]</c> over channels (groups=1 only).</summary>
public sealed class DarknetSoftmax : DarknetLayer
{
    internal DarknetSoftmax(DarknetSection s, int c, int h, int w) : base("softmax")
    {
        if (s.Int("groups", 1) != 1) throw s.Error("only groups=1 is supported");
        OutShape = (c, h, w);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override string Kind => "softmax";

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => F.softmax(x, 1);
}

/// <summary><c>[upsample]</c>: nearest-neighbour by an integer stride, times <c>scale</c> (default 1).</summary>
public sealed class DarknetUpsample : DarknetLayer
{
    internal DarknetUpsample(DarknetSection s, int c, int h, int w) : base("upsample")
    {
        Stride = s.Int("stride", 2);
        Scale = s.Float("scale", 1);
        if (Stride <= 0) throw s.Error("only a positive stride (upsampling) is supported");
        OutShape = (c, h * Stride, w * Stride);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override string Kind => "upsample";
    /// <summary>Integer factor.</summary>
    public int Stride { get; }
    /// <summary>Output multiplier.</summary>
    public float Scale { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        var y = x.repeat_interleave(Stride, 2).repeat_interleave(Stride, 3); // [B, C, H*s, W*s]
        return Scale == 1 ? y : y.mul(Scale);
    }
}

/// <summary><c>[route]</c>: the outputs of the listed layers (negative = relative) concatenated on channels.</summary>
public sealed class DarknetRoute : DarknetLayer
{
    internal DarknetRoute(DarknetSection s, int index, IReadOnlyList<DarknetLayer> built) : base("route")
    {
        var layers = s.IntList("layers") ?? throw s.Error("layers is required");
        Sources = layers.Select(l => ResolveIndex(s, "layers", l, index)).ToArray();
        var shapes = Sources.Select(i => built[i].OutShape).ToArray();
        if (shapes.Any(sh => sh.H != shapes[0].H || sh.W != shapes[0].W))
            throw s.Error($"routed layers must have the same height and width. Received: {string.Join(", ", shapes.Select(sh => $"{sh.W}x{sh.H}"))}");
        OutShape = (shapes.Sum(sh => sh.C), shapes[0].H, shapes[0].W);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override string Kind => "route";
    /// <summary>Absolute indices of the layers concatenated.</summary>
    public IReadOnlyList<int> Sources { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => throw new InvalidOperationException("route needs earlier outputs: call Run");

    /// <inheritdoc/>
    public override Tensor Run(Tensor input, IReadOnlyList<Tensor> earlier) =>
        Sources.Count == 1 ? earlier[Sources[0]].alias() : cat(Sources.Select(i => earlier[i]).ToArray(), 1);

    internal static int ResolveIndex(DarknetSection s, string key, int value, int index)
    {
        int abs = value < 0 ? index + value : value;
        if (abs < 0 || abs >= index)
            throw s.Error($"{key} must name an earlier layer (0..{index - 1} or -1..-{index}). Received: {key}={value}");
        return abs;
    }
}

/// <summary><c>[shortcut]</c>: <c>activation(alpha * previous + beta * from)</c> (alpha = beta = 1 by default).</summary>
public sealed class DarknetShortcut : DarknetLayer
{
    internal DarknetShortcut(DarknetSection s, int index, IReadOnlyList<DarknetLayer> built, (int C, int H, int W) input) : base("shortcut")
    {
        From = DarknetRoute.ResolveIndex(s, "from", s.Int("from", 0), index);
        Activation = ParseActivation(s);
        Alpha = s.Float("alpha", 1);
        Beta = s.Float("beta", 1);
        if (built[From].OutShape != input)
            throw s.Error($"from={From} has shape {built[From].OutShape} but the previous layer gives {input}; only equal shapes are supported");
        OutShape = input;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override string Kind => "shortcut";
    /// <summary>Absolute index of the added layer.</summary>
    public int From { get; }
    /// <summary>Activation after the sum.</summary>
    public DarknetActivation Activation { get; }
    /// <summary>Weight of the previous layer's output.</summary>
    public float Alpha { get; }
    /// <summary>Weight of the <see cref="From"/> layer's output.</summary>
    public float Beta { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => throw new InvalidOperationException("shortcut needs earlier outputs: call Run");

    /// <inheritdoc/>
    public override Tensor Run(Tensor input, IReadOnlyList<Tensor> earlier)
    {
        var a = Alpha == 1 ? input : input.mul(Alpha);
        var b = Beta == 1 ? earlier[From] : earlier[From].mul(Beta);
        return Activate(a.add(b), Activation);
    }
}

/// <summary>Layers that do nothing at inference (<c>[dropout]</c>, <c>[cost]</c>): output = input.</summary>
public sealed class DarknetIdentity : DarknetLayer
{
    private readonly string _kind;

    internal DarknetIdentity(string kind, (int C, int H, int W) input) : base(kind)
    {
        _kind = kind;
        OutShape = input;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override string Kind => _kind;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x) => x.alias();
}

/// <summary>
/// A network built from a <see cref="DarknetConfig"/>: layer i is Darknet's layer i. <c>forward</c> returns the
/// outputs of the <c>[yolo]</c> layers (each [B, n*(5+classes), H, W] with Darknet's logistic already applied to
/// x, y, objectness and class scores), or, for a net without YOLO heads, the last layer's output alone.
/// </summary>
public sealed class DarknetNetwork : nn.Module<Tensor, Tensor[]>
{
#pragma warning disable IDE1006
    private readonly ModuleList<DarknetLayer> layers;
#pragma warning restore IDE1006

    /// <summary>Builds every layer of <paramref name="config"/>, or the first <paramref name="layerCount"/> of them.</summary>
    public DarknetNetwork(DarknetConfig config, int? layerCount = null) : base(config.Name)
    {
        Config = config;
        Width = config.Width;
        Height = config.Height;
        Channels = config.Channels;
        if (Width <= 0 || Height <= 0 || Channels <= 0)
            throw config.Net.Error("width, height and channels must be positive");
        int count = layerCount ?? config.Layers.Count;
        if (count <= 0 || count > config.Layers.Count)
            throw new ModelDefinitionException($"{config.Name}.cfg: layer count must be 1..{config.Layers.Count}. Received: {count}");
        var built = new List<DarknetLayer>();
        (int C, int H, int W) shape = (Channels, Height, Width);
        for (int i = 0; i < count; i++)
        {
            var s = config.Layers[i];
            DarknetLayer layer = s.Type switch
            {
                "convolutional" or "conv" => new DarknetConvolutional(s, shape.C, shape.H, shape.W),
                "maxpool" or "max" => new DarknetMaxpool(s, shape.C, shape.H, shape.W),
                "avgpool" or "avg" => new DarknetAvgpool(shape.C),
                "softmax" or "soft" => new DarknetSoftmax(s, shape.C, shape.H, shape.W),
                "upsample" => new DarknetUpsample(s, shape.C, shape.H, shape.W),
                "route" => new DarknetRoute(s, i, built),
                "shortcut" => new DarknetShortcut(s, i, built, shape),
                "yolo" => new YoloLayer(s, shape.C, shape.H, shape.W),
                "dropout" or "cost" => new DarknetIdentity(s.Type, shape),
                _ => throw s.Error("unsupported layer type; supported: convolutional, maxpool, avgpool, softmax, upsample, route, shortcut, yolo, dropout, cost"),
            };
            built.Add(layer);
            shape = layer.OutShape;
        }
        layers = new ModuleList<DarknetLayer>(built.ToArray());
        RegisterComponents();
    }

    /// <summary>Builds the network of a <c>.cfg</c> file.</summary>
    public static DarknetNetwork FromFile(string cfgPath) => new(DarknetConfig.Parse(cfgPath));

    /// <summary>
    /// A classifier cfg (like <c>darknet53.cfg</c>) cut after its last convolution that keeps spatial size,
    /// i.e. before the global pool and classifier: the backbone for detection or features.
    /// </summary>
    public static DarknetNetwork Backbone(DarknetConfig config)
    {
        int firstPool = -1;
        for (int i = 0; i < config.Layers.Count; i++)
            if (config.Layers[i].Type is "avgpool" or "avg" or "softmax" or "soft" or "cost") { firstPool = i; break; }
        int end = firstPool < 0 ? config.Layers.Count : firstPool;
        int lastConv = -1;
        for (int i = 0; i < end; i++)
            if (config.Layers[i].Type is "convolutional" or "conv" or "shortcut") lastConv = i;
        if (lastConv < 0) throw new ModelDefinitionException($"{config.Name}.cfg: no convolution to end a backbone at");
        return new DarknetNetwork(config, lastConv + 1);
    }

    /// <summary>The cfg this was built from.</summary>
    public DarknetConfig Config { get; }
    /// <summary>Input width.</summary>
    public int Width { get; }
    /// <summary>Input height.</summary>
    public int Height { get; }
    /// <summary>Input channels.</summary>
    public int Channels { get; }
    /// <summary>The layers, Darknet's order.</summary>
    public IReadOnlyList<DarknetLayer> Layers => layers.ToList();
    /// <summary>The YOLO heads in order (empty for a classifier or backbone).</summary>
    public IReadOnlyList<YoloLayer> YoloLayers => layers.OfType<YoloLayer>().ToList();
    /// <summary>The convolutional layers in order: the ones a <c>.weights</c> file fills.</summary>
    public IReadOnlyList<DarknetConvolutional> ConvolutionalLayers => layers.OfType<DarknetConvolutional>().ToList();

    /// <summary>Input [B, C, H, W] in 0..1 RGB (H, W = the cfg's, or other multiples of the network's stride) -> YOLO head outputs (or the last output).</summary>
    public override Tensor[] forward(Tensor x)
    {
        // Other sides than the cfg's run too (a detector's multi-scale training); the layers follow the input's size.
        if (x.dim() != 4 || x.shape[1] != Channels)
            throw new ArgumentException($"input must be [B, {Channels}, H, W] (built for {Height}x{Width}). Received: [{string.Join(", ", x.shape)}]", nameof(x));
        var outputs = new List<Tensor>(layers.Count);
        var heads = new List<Tensor>();
        var current = x;
        foreach (var layer in layers)
        {
            current = layer.Run(current, outputs);
            outputs.Add(current);
            if (layer is YoloLayer) heads.Add(current);
        }
        return heads.Count > 0 ? heads.ToArray() : [current];
    }
}
