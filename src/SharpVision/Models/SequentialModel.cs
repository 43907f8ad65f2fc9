using System.Collections.Immutable;
using System.Text.RegularExpressions;
using SharpVision.Imaging;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace SharpVision.Models;

/// <summary>One built layer of a <see cref="SequentialModel"/>: its name (the state_dict prefix), spec and output shape.</summary>
/// <param name="Name">Keras-style name, e.g. "conv2d_1"; also the state_dict prefix ("conv2d_1.weight").</param>
/// <param name="Spec">The layer's definition.</param>
/// <param name="OutputShape">Output shape without the batch axis: [C, H, W] or [F], at the spec's input size.</param>
/// <param name="Module">The TorchSharp module holding the layer's parameters (null for GlobalAveragePooling2D/Activation).</param>
public sealed record SequentialLayer(string Name, LayerSpec Spec, long[] OutputShape, nn.Module? Module);

/// <summary>
/// A Keras-like sequential network built from a <see cref="ModelSpec"/>. The head is the final Dense layer;
/// features are every layer before it. A final sigmoid/softmax (on the last Dense or a trailing Activation) is
/// recorded in <see cref="OutputActivation"/> but NOT applied: the module returns logits.
/// Layers are registered under their Keras names, so state_dict keys read <c>conv2d.weight</c>, <c>dense_1.bias</c>.
/// </summary>
public sealed partial class SequentialModel : ImageClassifier
{
    private readonly List<Built> _layers = [];
    private readonly string _architecture;
    private readonly Preprocessing _preprocessing;
    private readonly int? _width;
    private int _headIndex;

    /// <summary>Builds the network; throws <see cref="ModelDefinitionException"/> naming the faulty layer.</summary>
    /// <param name="spec">Layers and input shape.</param>
    /// <param name="numClasses">When given, overrides the last Dense's units (and switches sigmoid/softmax to match).</param>
    /// <param name="architecture">Registered name for built-in models, "custom" for user definitions.</param>
    /// <param name="preprocessing">Input preprocessing; default: spec size and channels, 0..1 values (scale 1/255).</param>
    /// <param name="width">The registered family's width setting the spec was made with (<see cref="ModelInfo.Width"/>); null for none.</param>
    public SequentialModel(ModelSpec spec, int? numClasses = null, string architecture = "custom", Preprocessing? preprocessing = null, int? width = null)
        : base(spec.Name)
    {
        _architecture = architecture;
        _width = width;
        spec = WithNumClasses(Validate(spec), numClasses);
        Spec = spec;
        var shapes = InferShapes(spec, spec.InputSize, spec.Channels);
        var names = AssignNames(spec);
        _headIndex = HeadIndex(spec);
        long[] input = [spec.Channels, spec.InputSize, spec.InputSize];
        for (int i = 0; i < spec.Layers.Length; i++)
        {
            long[] inShape = i == 0 ? input : shapes[i - 1];
            var module = CreateModule(spec.Layers[i], inShape);
            if (module is not null) register_module(names[i], module);
            _layers.Add(new Built(names[i], spec.Layers[i], shapes[i], module));
        }
        OutputActivation = FinalActivation(spec);
        _preprocessing = preprocessing ?? DefaultPreprocessing(spec);
        RegisterComponents();
    }

    /// <summary>The effective definition (with the numClasses override applied); serialise it with <see cref="ModelYaml.ToYaml"/>.</summary>
    public ModelSpec Spec { get; private set; }

    /// <summary>Sigmoid or Softmax when the definition ends with one (recorded, not applied), else Linear.</summary>
    public ActivationKind OutputActivation { get; private set; }

    /// <summary>The layers in order, with names and output shapes at the spec's input size.</summary>
    public IReadOnlyList<SequentialLayer> Layers => _layers.Select(l => new SequentialLayer(l.Name, l.Spec, l.OutputShape, l.Module)).ToList();

    private DenseSpec Head => (DenseSpec)_layers[_headIndex].Spec;

    public override ModelInfo Info => new(_architecture, Head.Units, _preprocessing with { },
        _layers.FirstOrDefault(l => l.Spec is Conv2DSpec or DenseSpec)?.Name ?? _layers[_headIndex].Name,
        _layers[_headIndex].Name, _width);

    public override int NumFeatures => (int)(_headIndex == 0 ? Spec.Channels * Spec.InputSize * Spec.InputSize : _layers[_headIndex - 1].OutputShape.Aggregate(1L, (a, b) => a * b));

    /// <summary>[B, C, S, S] -> [B, NumFeatures]: every layer before the final Dense.</summary>
    public override Tensor ForwardFeatures(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor x = input;
        for (int i = 0; i < _headIndex; i++) x = Apply(_layers[i], x, isLast: false);
        if (x.dim() != 2) x = x.flatten(1); // a Dense head needs [B, F]; validation guarantees a flat input already
        return (ReferenceEquals(x, input) ? x.alias() : x).MoveToOuterDisposeScope();
    }

    /// <summary>[B, NumFeatures] -> [B, NumClasses] logits: the final Dense (and any non-final activation after it).</summary>
    public override Tensor ForwardHead(Tensor features)
    {
        using var scope = NewDisposeScope();
        Tensor x = features;
        for (int i = _headIndex; i < _layers.Count; i++) x = Apply(_layers[i], x, isLast: i == _layers.Count - 1);
        return x.MoveToOuterDisposeScope();
    }

    public override IEnumerable<nn.Module> HeadModules() => [_layers[_headIndex].Module!];

    /// <summary>Replaces the final Dense with a fresh one of <paramref name="numClasses"/> units (same name, same device).</summary>
    public override void ResetClassifier(int numClasses)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "must be at least 1");
        var old = _layers[_headIndex];
        Spec = WithNumClasses(Spec, numClasses);
        var spec = Spec.Layers[_headIndex];
        var linear = CreateModule(spec, [NumFeatures])!;
        var device = ((nn.Module)old.Module!).parameters().First().device;
        linear.to(device);
        register_module(old.Name, null!); // TorchSharp removes a registration when given null
        register_module(old.Name, linear);
        old.Module!.Dispose();
        _layers[_headIndex] = new Built(old.Name, spec, [numClasses], linear);
        if (_headIndex + 1 < _layers.Count) _layers[^1] = _layers[^1] with { Spec = Spec.Layers[^1], OutputShape = [numClasses] };
        OutputActivation = FinalActivation(Spec);
    }

    /// <summary>
    /// Output shapes ([C, H, W] or [F], no batch axis) of every layer for a <paramref name="size"/> x
    /// <paramref name="size"/> input with <paramref name="channels"/> channels; throws when a layer cannot take its input.
    /// </summary>
    public static List<long[]> InferShapes(ModelSpec spec, int size, int channels)
    {
        var shapes = new List<long[]>();
        long[] s = [channels, size, size];
        for (int i = 0; i < spec.Layers.Length; i++)
        {
            var layer = spec.Layers[i];
            string where = $"layers[{i}] ({layer.TypeName})";
            if (layer is Conv2DSpec or MaxPooling2DSpec or AveragePooling2DSpec or GlobalAveragePooling2DSpec && s.Length != 3)
                throw new ModelDefinitionException(
                    $"{where}: needs a [C, H, W] input, an earlier layer flattened it. Received: input shape {ShapeText(s)}");
            s = layer switch
            {
                Conv2DSpec c => [c.Filters, Out(s[1], c.KernelSize, c.Strides, c.Padding, where), Out(s[2], c.KernelSize, c.Strides, c.Padding, where)],
                MaxPooling2DSpec p => [s[0], Out(s[1], p.PoolSize, p.Strides ?? p.PoolSize, p.Padding, where), Out(s[2], p.PoolSize, p.Strides ?? p.PoolSize, p.Padding, where)],
                AveragePooling2DSpec p => [s[0], Out(s[1], p.PoolSize, p.Strides ?? p.PoolSize, p.Padding, where), Out(s[2], p.PoolSize, p.Strides ?? p.PoolSize, p.Padding, where)],
                GlobalAveragePooling2DSpec => [s[0]],
                FlattenSpec => [s.Aggregate(1L, (a, b) => a * b)],
                DenseSpec d => s.Length == 1 ? [d.Units] : throw new ModelDefinitionException(
                    $"{where}: Dense needs a flat input; add Flatten or GlobalAveragePooling2D before it. Received: input shape {ShapeText(s)}"),
                _ => s,
            };
            shapes.Add(s);
        }
        return shapes;
    }

    /// <summary>"(None, 32, 148, 148)": PyTorch's channel-first order with Keras' None batch axis.</summary>
    public static string ShapeText(IEnumerable<long> shape) => "(None, " + string.Join(", ", shape) + ")";

    private static long Out(long input, int kernel, int stride, PaddingKind padding, string where)
    {
        long o = padding == PaddingKind.Same ? (input + stride - 1) / stride : (input - kernel) / stride + 1;
        if (o < 1 || (padding == PaddingKind.Valid && input < kernel))
            throw new ModelDefinitionException($"{where}: the input is too small for a {kernel}x{kernel} window. Received: input side {input}");
        return o;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex LayerNamePattern();

    private static ModelSpec Validate(ModelSpec spec)
    {
        if (spec.InputSize < 1) throw new ModelDefinitionException($"input.size must be a positive integer. Received: input.size={spec.InputSize}");
        if (spec.Channels is not (1 or 3)) throw new ModelDefinitionException($"input.channels must be 1 or 3. Received: input.channels={spec.Channels}");
        if (spec.Layers.IsDefaultOrEmpty) throw new ModelDefinitionException("layers must list at least one layer ending with Dense. Received: no layers");
        for (int i = 0; i < spec.Layers.Length; i++)
        {
            var l = spec.Layers[i];
            string where = $"layers[{i}] ({l.TypeName})";
            void Positive(string key, long value) { if (value < 1) throw new ModelDefinitionException($"{where}: {key} must be a positive integer. Received: {key}={value}"); }
            if (l.Name is { } n && !LayerNamePattern().IsMatch(n))
                throw new ModelDefinitionException($"{where}: name must be letters, digits and '_' (no dots). Received: name={n}");
            switch (l)
            {
                case Conv2DSpec c: Positive("filters", c.Filters); Positive("kernel_size", c.KernelSize); Positive("strides", c.Strides); break;
                case MaxPooling2DSpec p: Positive("pool_size", p.PoolSize); Positive("strides", p.Strides ?? 1); break;
                case AveragePooling2DSpec p: Positive("pool_size", p.PoolSize); Positive("strides", p.Strides ?? 1); break;
                case DenseSpec d: Positive("units", d.Units); break;
                case DropoutSpec d when d.Rate is < 0 or >= 1 || double.IsNaN(d.Rate):
                    throw new ModelDefinitionException($"{where}: rate must be in [0, 1). Received: rate={d.Rate}");
                case BatchNormalizationSpec b when b.Momentum is < 0 or >= 1 || b.Epsilon <= 0 || double.IsNaN(b.Momentum):
                    throw new ModelDefinitionException($"{where}: momentum must be in [0, 1) and epsilon positive. Received: momentum={b.Momentum}, epsilon={b.Epsilon}");
            }
        }
        HeadIndex(spec);
        InferShapes(spec, spec.InputSize, spec.Channels);
        return spec;
    }

    private static int HeadIndex(ModelSpec spec)
    {
        int head = -1;
        for (int i = 0; i < spec.Layers.Length; i++) if (spec.Layers[i] is DenseSpec) head = i;
        if (head < 0)
            throw new ModelDefinitionException($"layers must end with a Dense layer (the classifier). Received: last layer {spec.Layers[^1].TypeName}");
        for (int i = head + 1; i < spec.Layers.Length; i++)
            if (spec.Layers[i] is not ActivationSpec || i != spec.Layers.Length - 1)
                throw new ModelDefinitionException(
                    $"layers[{i}] ({spec.Layers[i].TypeName}): only one Activation may follow the final Dense (the classifier). Received: {spec.Layers[i].TypeName}");
        return head;
    }

    private static ModelSpec WithNumClasses(ModelSpec spec, int? numClasses)
    {
        if (numClasses is not { } k) return spec;
        if (k < 1) throw new ModelDefinitionException($"numClasses must be a positive integer. Received: numClasses={k}");
        int head = HeadIndex(spec);
        var layers = spec.Layers.ToBuilder();
        var dense = (DenseSpec)layers[head];
        layers[head] = dense with { Units = k, Activation = SwitchFinal(dense.Activation, k) };
        if (head + 1 < layers.Count && layers[^1] is ActivationSpec a) layers[^1] = a with { Activation = SwitchFinal(a.Activation, k) };
        return spec with { Layers = layers.ToImmutable() };
    }

    // One output column means sigmoid, several mean softmax: keep the recorded final activation consistent.
    private static ActivationKind SwitchFinal(ActivationKind a, int k) => a switch
    {
        ActivationKind.Sigmoid when k > 1 => ActivationKind.Softmax,
        ActivationKind.Softmax when k == 1 => ActivationKind.Sigmoid,
        _ => a,
    };

    private static ActivationKind FinalActivation(ModelSpec spec)
    {
        var last = spec.Layers[^1] switch { ActivationSpec a => a.Activation, DenseSpec d => d.Activation, _ => ActivationKind.Linear };
        return last is ActivationKind.Sigmoid or ActivationKind.Softmax ? last : ActivationKind.Linear;
    }

    private static string[] AssignNames(ModelSpec spec)
    {
        var used = new HashSet<string>(spec.Layers.Where(l => l.Name is not null).Select(l => l.Name!));
        var counts = new Dictionary<string, int>();
        var names = new string[spec.Layers.Length];
        var seen = new HashSet<string>();
        for (int i = 0; i < names.Length; i++)
        {
            var l = spec.Layers[i];
            string name;
            if (l.Name is { } explicitName) name = explicitName;
            else
            {
                // Keras numbering: conv2d, conv2d_1, conv2d_2, ... skipping names given explicitly.
                do
                {
                    int n = counts.GetValueOrDefault(l.DefaultNameStem);
                    counts[l.DefaultNameStem] = n + 1;
                    name = n == 0 ? l.DefaultNameStem : $"{l.DefaultNameStem}_{n}";
                } while (used.Contains(name));
            }
            if (!seen.Add(name))
                throw new ModelDefinitionException($"layers[{i}] ({l.TypeName}): name must be unique. Received: name={name}");
            names[i] = name;
        }
        return names;
    }

    private static Preprocessing DefaultPreprocessing(ModelSpec spec) => new()
    {
        Size = spec.InputSize,
        Channels = spec.Channels,
        Scale = 1f / 255f,
        Mean = new float[spec.Channels],
        Std = Enumerable.Repeat(1f, spec.Channels).ToArray(),
    };

    private static nn.Module<Tensor, Tensor>? CreateModule(LayerSpec spec, long[] inShape)
    {
        switch (spec)
        {
            case Conv2DSpec c:
            {
                // Symmetric 'same' padding fits in the conv itself (stride 1, odd kernel); other cases pad in Apply.
                long pad = c.Padding == PaddingKind.Same && c.Strides == 1 && c.KernelSize % 2 == 1 ? c.KernelSize / 2 : 0;
                var conv = new Conv2d(inShape[0], c.Filters, c.KernelSize, stride: c.Strides, padding: pad, bias: c.UseBias);
                KerasInit(conv.weight!, conv.bias);
                return conv;
            }
            case DenseSpec d:
            {
                var linear = nn.Linear(inShape[0], d.Units, hasBias: d.UseBias);
                KerasInit(linear.weight!, linear.bias);
                return linear;
            }
            case MaxPooling2DSpec p: return nn.MaxPool2d(p.PoolSize, p.Strides ?? p.PoolSize);
            case AveragePooling2DSpec p: return nn.AvgPool2d(p.PoolSize, p.Strides ?? p.PoolSize);
            case FlattenSpec: return nn.Flatten();
            case DropoutSpec d: return nn.Dropout(d.Rate);
            case BatchNormalizationSpec b:
                return inShape.Length == 3
                    ? nn.BatchNorm2d(inShape[0], eps: b.Epsilon, momentum: 1 - b.Momentum)
                    : nn.BatchNorm1d(inShape[0], eps: b.Epsilon, momentum: 1 - b.Momentum);
            default: return null;
        }
    }

    // Keras' defaults: glorot-uniform kernels and zero biases (fans are computed from [out, in, kh, kw] alike).
    private static void KerasInit(Tensor weight, Tensor? bias)
    {
        using var _ = no_grad();
        nn.init.xavier_uniform_(weight);
        if (bias is not null) nn.init.zeros_(bias);
    }

    private Tensor Apply(Built layer, Tensor x, bool isLast)
    {
        switch (layer.Spec)
        {
            case Conv2DSpec c:
                if (c.Padding == PaddingKind.Same && !(c.Strides == 1 && c.KernelSize % 2 == 1))
                    x = F.pad(x, SamePads(x, c.KernelSize, c.Strides));
                return Activate(((nn.Module<Tensor, Tensor>)layer.Module!).call(x), c.Activation, isLast);
            case MaxPooling2DSpec p:
                if (p.Padding == PaddingKind.Same) x = F.pad(x, SamePads(x, p.PoolSize, p.Strides ?? p.PoolSize), value: double.NegativeInfinity);
                return ((nn.Module<Tensor, Tensor>)layer.Module!).call(x);
            case AveragePooling2DSpec p:
            {
                var pool = (nn.Module<Tensor, Tensor>)layer.Module!;
                if (p.Padding == PaddingKind.Valid) return pool.call(x);
                // Keras averages only the real cells: divide by the pooled share of real cells per window.
                var pads = SamePads(x, p.PoolSize, p.Strides ?? p.PoolSize);
                using var ones = torch.ones(1, 1, x.shape[2], x.shape[3], dtype: x.dtype, device: x.device);
                using var counted = pool.call(F.pad(ones, pads));
                return pool.call(F.pad(x, pads)) / counted;
            }
            case GlobalAveragePooling2DSpec: return x.mean([2, 3]); // [B, C, H, W] -> [B, C]
            case DenseSpec d: return Activate(((nn.Module<Tensor, Tensor>)layer.Module!).call(x), d.Activation, isLast);
            case ActivationSpec a: return Activate(x, a.Activation, isLast);
            default: return ((nn.Module<Tensor, Tensor>)layer.Module!).call(x); // Flatten, Dropout, BatchNormalization
        }
    }

    // The final sigmoid/softmax is left to the loss and to predict: the module returns logits.
    private static Tensor Activate(Tensor x, ActivationKind a, bool isLast) => a switch
    {
        ActivationKind.Linear => x,
        ActivationKind.Sigmoid or ActivationKind.Softmax when isLast => x,
        ActivationKind.Relu => F.relu(x),
        ActivationKind.Sigmoid => F.sigmoid(x),
        ActivationKind.Softmax => F.softmax(x, 1),
        ActivationKind.Tanh => F.tanh(x),
        ActivationKind.Elu => F.elu(x, 1.0),
        ActivationKind.LeakyRelu => F.leaky_relu(x, 0.2), // Keras 3's default negative slope
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    // Keras 'same': total padding so that out = ceil(in / stride); the odd extra cell goes after (right/bottom).
    private static long[] SamePads(Tensor x, int kernel, int stride)
    {
        static (long, long) Side(long input, int k, int s)
        {
            long output = (input + s - 1) / s;
            long total = Math.Max((output - 1) * s + k - input, 0);
            return (total / 2, total - total / 2);
        }
        var (top, bottom) = Side(x.shape[2], kernel, stride);
        var (left, right) = Side(x.shape[3], kernel, stride);
        return [left, right, top, bottom];
    }

    private sealed record Built(string Name, LayerSpec Spec, long[] OutputShape, nn.Module<Tensor, Tensor>? Module);
}
