using Onnx;
using SharpVision.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using A = SharpVision.Weights.Onnx.OnnxGraph;
using ResNet = SharpVision.Models.ResNet;
using BasicBlock = SharpVision.Models.BasicBlock;
using Bottleneck = SharpVision.Models.Bottleneck;

namespace SharpVision.Weights.Onnx;

/// <summary>
/// Translates TorchSharp modules into ONNX nodes, one family at a time (sequential builder models, ResNet,
/// VGG). Every method takes the value flowing in and returns the value flowing out; shapes are tracked
/// without the batch axis so pads and pooling windows are static. Initializers take the state_dict key of
/// the parameter they hold (<c>layer1.0.bn1.running_mean</c>), so the graph reads like the checkpoint.
/// </summary>
internal sealed class OnnxModuleWriter(OnnxGraph graph)
{
    // ---- families -------------------------------------------------------------------------------------

    /// <summary>Mirrors <see cref="SequentialModel"/>'s forward: features, flatten when needed, head; logits out.</summary>
    public OnnxValue WriteSequential(SequentialModel model, OnnxValue x)
    {
        var layers = model.Layers;
        int head = -1;
        for (int i = 0; i < layers.Count; i++) if (layers[i].Spec is DenseSpec) head = i;
        for (int i = 0; i < layers.Count; i++)
        {
            // ForwardFeatures flattens before the head when the features are not flat already.
            if (i == head && x.Shape.Length != 1) x = WriteFlatten(layers[i].Name + ".flatten", x);
            x = WriteLayer(layers[i], x, isLast: i == layers.Count - 1);
        }
        return x;
    }

    /// <summary>conv1-bn1-relu-maxpool, layer1..layer4, avgpool, flatten, fc (torchvision's forward).</summary>
    public OnnxValue WriteResNet(ResNet model, OnnxValue x)
    {
        var children = Children(model);
        foreach (string name in new[] { "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool" })
            x = Write(name, Child(children, name, model.GetType().Name), x);
        x = WriteFlatten("flatten", x); // [B, 512e]
        return Write("fc", Child(children, "fc", model.GetType().Name), x);
    }

    /// <summary>features, avgpool (adaptive to 7x7), flatten, classifier (torchvision's forward).</summary>
    public OnnxValue WriteVgg(Vgg model, OnnxValue x)
    {
        var children = Children(model);
        x = Write("features", Child(children, "features", "Vgg"), x);  // [B, 512, S/32, S/32]
        x = Write("avgpool", Child(children, "avgpool", "Vgg"), x);    // [B, 512, 7, 7]
        x = WriteFlatten("flatten", x);                                     // [B, 25088]
        return Write("classifier", Child(children, "classifier", "Vgg"), x);
    }

    // ---- builder layers ---------------------------------------------------------------------------------

    private OnnxValue WriteLayer(SequentialLayer layer, OnnxValue x, bool isLast)
    {
        string path = layer.Name;
        switch (layer.Spec)
        {
            case Conv2DSpec c:
            {
                var conv = (Convolution)layer.Module!;
                long[] pads = c.Padding == PaddingKind.Same ? SamePads(x, c.KernelSize, c.Strides) : [0, 0, 0, 0];
                return Activate(path, WriteConv(path, conv, x, pads), c.Activation, isLast);
            }
            case MaxPooling2DSpec p:
            {
                int stride = p.Strides ?? p.PoolSize;
                long[] pads = p.Padding == PaddingKind.Same ? SamePads(x, p.PoolSize, stride) : [0, 0, 0, 0];
                return Pool("MaxPool", path, x, [p.PoolSize, p.PoolSize], [stride, stride], pads);
            }
            case AveragePooling2DSpec p:
            {
                // Keras' 'same' average counts only real cells: count_include_pad = 0 (the ONNX default).
                int stride = p.Strides ?? p.PoolSize;
                long[] pads = p.Padding == PaddingKind.Same ? SamePads(x, p.PoolSize, stride) : [0, 0, 0, 0];
                return Pool("AveragePool", path, x, [p.PoolSize, p.PoolSize], [stride, stride], pads, [A.Int("count_include_pad", 0)]);
            }
            case GlobalAveragePooling2DSpec:
                RequireSpatial(path, "GlobalAveragePooling2D", x);
                return WriteFlatten(path + ".flatten", new OnnxValue(graph.AddNode("GlobalAveragePool", path, [x.Name]), [x.Channels, 1, 1]));
            case FlattenSpec:
                return WriteFlatten(path, x);
            case DenseSpec d:
                return Activate(path, WriteGemm(path, (Linear)layer.Module!, x), d.Activation, isLast);
            case ActivationSpec a:
                return Activate(path, x, a.Activation, isLast);
            case DropoutSpec:
                return x; // identity at inference
            case BatchNormalizationSpec:
                return Write(path, layer.Module!, x);
            default:
                throw new OnnxExportException($"cannot export layer '{path}' ({layer.Spec.TypeName}) to ONNX: no converter for this layer type");
        }
    }

    // The final sigmoid/softmax is not part of the logits (SequentialModel leaves it to the loss and predict).
    private OnnxValue Activate(string path, OnnxValue x, ActivationKind a, bool isLast)
    {
        string stem = path + "." + KerasNames.Of(a);
        return a switch
        {
            ActivationKind.Linear => x,
            ActivationKind.Sigmoid or ActivationKind.Softmax when isLast => x,
            ActivationKind.Relu => x with { Name = graph.AddNode("Relu", stem, [x.Name]) },
            ActivationKind.Sigmoid => x with { Name = graph.AddNode("Sigmoid", stem, [x.Name]) },
            ActivationKind.Tanh => x with { Name = graph.AddNode("Tanh", stem, [x.Name]) },
            ActivationKind.Softmax => x with { Name = graph.AddNode("Softmax", stem, [x.Name], A.Int("axis", 1)) },
            ActivationKind.Elu => x with { Name = graph.AddNode("Elu", stem, [x.Name], A.Float("alpha", 1f)) },
            ActivationKind.LeakyRelu => x with { Name = graph.AddNode("LeakyRelu", stem, [x.Name], A.Float("alpha", 0.2f)) }, // Keras 3's slope, as our forward
            _ => throw new OnnxExportException($"cannot export layer '{path}': activation {a} has no ONNX converter"),
        };
    }

    // Keras 'same': out = ceil(in / stride); the odd extra cell goes after. ONNX order: [top, left, bottom, right].
    private static long[] SamePads(OnnxValue x, int kernel, int stride)
    {
        static (long, long) Side(long input, int k, int s)
        {
            long output = (input + s - 1) / s;
            long total = Math.Max((output - 1) * s + k - input, 0);
            return (total / 2, total - total / 2);
        }
        var (top, bottom) = Side(x.Height, kernel, stride);
        var (left, right) = Side(x.Width, kernel, stride);
        return [top, left, bottom, right];
    }

    // ---- TorchSharp modules -----------------------------------------------------------------------------

    /// <summary>Writes any supported module; an unsupported one fails naming its path and type.</summary>
    public OnnxValue Write(string path, nn.Module module, OnnxValue x)
    {
        switch (module)
        {
            case Sequential s:
                foreach (var (name, child) in s.named_children()) x = Write(Join(path, name), child, x);
                return x;
            case Convolution c when c.kernel_size.Length == 2:
                return WriteConv(path, c, x, TorchPads(path, c, x));
            case BatchNorm2d or BatchNorm1d:
                return WriteBatchNorm(path, (BatchNorm)module, x);
            case Linear l:
                return WriteGemm(path, l, x);
            case ReLU:
                return x with { Name = graph.AddNode("Relu", path, [x.Name]) };
            case Sigmoid:
                return x with { Name = graph.AddNode("Sigmoid", path, [x.Name]) };
            case Tanh:
                return x with { Name = graph.AddNode("Tanh", path, [x.Name]) };
            case ELU e:
                return x with { Name = graph.AddNode("Elu", path, [x.Name], A.Float("alpha", (float)e.alpha)) };
            case LeakyReLU lr:
                return x with { Name = graph.AddNode("LeakyRelu", path, [x.Name], A.Float("alpha", (float)lr.negative_slope)) };
            case Dropout or Identity:
                return x; // identity at inference
            case Flatten f when f.start_dim == 1 && (f.end_dim == -1 || f.end_dim == x.Shape.Length):
                return WriteFlatten(path, x);
            case MaxPool2d m:
                return TorchPool("MaxPool", path, x, m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode);
            case AvgPool2d p:
                if (p.divisor_override is not null)
                    throw new OnnxExportException($"cannot export module '{path}' (AvgPool2d) to ONNX: divisor_override has no ONNX equivalent");
                return TorchPool("AveragePool", path, x, p.kernel_size, p.stride, p.padding, null, p.ceil_mode, p.count_include_pad ? 1 : 0);
            case AdaptiveAvgPool2d ap:
                return AdaptiveAvgPool(path, ap, x);
            case BasicBlock b:
                return Residual(path, b, x, ["conv1", "bn1", "relu", "conv2", "bn2"]);
            case Bottleneck b:
                return Residual(path, b, x, ["conv1", "bn1", "relu", "conv2", "bn2", "relu", "conv3", "bn3"]);
            default:
                throw new OnnxExportException(
                    $"cannot export module '{path}' ({module.GetType().Name}) to ONNX: no converter for this module type");
        }
    }

    // torchvision's blocks: body, shortcut (downsample or identity), add, ReLU.
    private OnnxValue Residual(string path, nn.Module block, OnnxValue x, string[] body)
    {
        var children = Children(block);
        var y = x;
        foreach (string name in body) y = Write(Join(path, name), Child(children, name, block.GetType().Name, path), y);
        var identity = children.TryGetValue("downsample", out var down) ? Write(Join(path, "downsample"), down, x) : x;
        if (!identity.Shape.SequenceEqual(y.Shape))
            throw new OnnxExportException($"cannot export module '{path}' ({block.GetType().Name}): shortcut shape [{string.Join(", ", identity.Shape)}] differs from the body's [{string.Join(", ", y.Shape)}]");
        var sum = y with { Name = graph.AddNode("Add", Join(path, "add"), [y.Name, identity.Name]) };
        return sum with { Name = graph.AddNode("Relu", Join(path, "relu_out"), [sum.Name]) };
    }

    private OnnxValue WriteConv(string path, Convolution conv, OnnxValue x, long[] pads)
    {
        RequireSpatial(path, "Conv2d", x);
        if (conv.transposed || conv.padding_mode != PaddingModes.Zeros)
            throw new OnnxExportException($"cannot export module '{path}' (Conv2d) to ONNX: only zero-padded, non-transposed convolutions are supported");
        long[] k = conv.kernel_size, s = Pair(conv.stride, 1), d = Pair(conv.dilation, 1);
        var inputs = new List<string> { x.Name, graph.AddInitializer(path + ".weight", Floats(conv.weight!), conv.weight!.shape) };
        if (conv.bias is { } bias) inputs.Add(graph.AddInitializer(path + ".bias", Floats(bias), bias.shape));
        string y = graph.AddNode("Conv", path, inputs,
            A.Ints("kernel_shape", k), A.Ints("strides", s), A.Ints("dilations", d), A.Ints("pads", pads), A.Int("group", conv.groups));
        long h = (x.Height + pads[0] + pads[2] - d[0] * (k[0] - 1) - 1) / s[0] + 1;
        long w = (x.Width + pads[1] + pads[3] - d[1] * (k[1] - 1) - 1) / s[1] + 1;
        if (h < 1 || w < 1)
            throw new OnnxExportException($"cannot export module '{path}' (Conv2d): its {x.Height}x{x.Width} input is smaller than the kernel");
        return new OnnxValue(y, [conv.out_channels, h, w]);
    }

    // PyTorch's padding: explicit per side, or padding='same' (stride 1; the odd extra cell goes after).
    private static long[] TorchPads(string path, Convolution conv, OnnxValue x)
    {
        if (conv.padding_type == Padding.Valid) return [0, 0, 0, 0];
        if (conv.padding_type == Padding.Same)
        {
            long[] d = Pair(conv.dilation, 1);
            long th = d[0] * (conv.kernel_size[0] - 1), tw = d[1] * (conv.kernel_size[1] - 1);
            return [th / 2, tw / 2, th - th / 2, tw - tw / 2];
        }
        long[] p = Pair(conv.padding, 0);
        return [p[0], p[1], p[0], p[1]];
    }

    private OnnxValue WriteBatchNorm(string path, BatchNorm bn, OnnxValue x)
    {
        if (!bn.track_running_stats || bn.running_mean is null || bn.running_var is null)
            throw new OnnxExportException($"cannot export module '{path}' ({bn.GetType().Name}) to ONNX: it keeps no running statistics");
        bool rankOk = bn is BatchNorm2d ? x.Shape.Length == 3 : x.Shape.Length is 1 or 2;
        if (!rankOk || x.Channels != bn.num_features)
            throw new OnnxExportException($"cannot export module '{path}' ({bn.GetType().Name}): input shape [{string.Join(", ", x.Shape)}] does not fit {bn.num_features} features");
        long c = bn.num_features;
        // No affine parameters means scale 1, shift 0 (what PyTorch applies).
        string scale = bn.weight is { } w ? graph.AddInitializer(path + ".weight", Floats(w), c) : graph.AddInitializer(path + ".weight", Enumerable.Repeat(1f, (int)c).ToArray(), c);
        string shift = bn.bias is { } b ? graph.AddInitializer(path + ".bias", Floats(b), c) : graph.AddInitializer(path + ".bias", new float[c], c);
        string mean = graph.AddInitializer(path + ".running_mean", Floats(bn.running_mean), c);
        string var = graph.AddInitializer(path + ".running_var", Floats(bn.running_var), c);
        return x with { Name = graph.AddNode("BatchNormalization", path, [x.Name, scale, shift, mean, var], A.Float("epsilon", (float)bn.eps)) };
    }

    private OnnxValue WriteGemm(string path, Linear linear, OnnxValue x)
    {
        if (x.Shape.Length != 1 || x.Shape[0] != linear.in_features)
            throw new OnnxExportException($"cannot export module '{path}' (Linear): expects [B, {linear.in_features}], receives [B, {string.Join(", ", x.Shape)}]");
        var inputs = new List<string> { x.Name, graph.AddInitializer(path + ".weight", Floats(linear.weight!), linear.weight!.shape) };
        if (linear.bias is { } bias) inputs.Add(graph.AddInitializer(path + ".bias", Floats(bias), bias.shape));
        // weight is [out, in] (PyTorch layout): y = x W^T + b.
        return new OnnxValue(graph.AddNode("Gemm", path, inputs, A.Int("transB", 1)), [linear.out_features]);
    }

    private OnnxValue TorchPool(string op, string path, OnnxValue x, long[] kernel, long[]? stride, long[]? padding, long[]? dilation, bool ceilMode, int? countIncludePad = null)
    {
        long[] k = Pair(kernel, 1), s = stride is null || stride.Length == 0 ? k : Pair(stride, 1), p = Pair(padding, 0), d = Pair(dilation, 1);
        long[] pads = [p[0], p[1], p[0], p[1]];
        if (ceilMode)
        {
            // ONNX and PyTorch round the last window differently in edge cases: accept ceil mode only where it changes nothing.
            bool same = true;
            for (int axis = 0; axis < 2; axis++)
            {
                long span = x.Shape[axis + 1] + 2 * p[axis] - d[axis] * (k[axis] - 1) - 1;
                same &= span % s[axis] == 0;
            }
            if (!same)
                throw new OnnxExportException($"cannot export module '{path}' ({op}) to ONNX: ceil_mode changes the output size at input {x.Height}x{x.Width}");
        }
        var extra = new List<AttributeProto>();
        if (d.Any(v => v != 1))
        {
            if (op != "MaxPool") throw new OnnxExportException($"cannot export module '{path}' ({op}): dilation is not supported");
            extra.Add(A.Ints("dilations", d));
        }
        if (countIncludePad is { } cip) extra.Add(A.Int("count_include_pad", cip));
        return Pool(op, path, x, k, s, pads, extra, d);
    }

    private OnnxValue Pool(string op, string path, OnnxValue x, long[] kernel, long[] stride, long[] pads, IEnumerable<AttributeProto>? extra = null, long[]? dilation = null)
    {
        RequireSpatial(path, op, x);
        long[] d = dilation ?? [1, 1];
        var attributes = new List<AttributeProto> { A.Ints("kernel_shape", kernel), A.Ints("strides", stride), A.Ints("pads", pads) };
        attributes.AddRange(extra ?? []);
        long h = (x.Height + pads[0] + pads[2] - d[0] * (kernel[0] - 1) - 1) / stride[0] + 1;
        long w = (x.Width + pads[1] + pads[3] - d[1] * (kernel[1] - 1) - 1) / stride[1] + 1;
        if (h < 1 || w < 1)
            throw new OnnxExportException($"cannot export module '{path}' ({op}): its {x.Height}x{x.Width} input is smaller than the window");
        return new OnnxValue(graph.AddNode(op, path, [x.Name], [.. attributes]), [x.Channels, h, w]);
    }

    /// <summary>
    /// AdaptiveAvgPool2d at a static input size: nothing when the size already matches, GlobalAveragePool for
    /// 1x1, a plain AveragePool when the input divides evenly, otherwise the exact bin averages as two matrix
    /// products (rows then columns) with PyTorch's bins [floor(i*H/o), ceil((i+1)*H/o)).
    /// </summary>
    private OnnxValue AdaptiveAvgPool(string path, AdaptiveAvgPool2d pool, OnnxValue x)
    {
        RequireSpatial(path, "AdaptiveAvgPool2d", x);
        long[] o = pool.output_size.Length == 1 ? [pool.output_size[0], pool.output_size[0]] : pool.output_size;
        long oh = o[0] <= 0 ? x.Height : o[0], ow = o[1] <= 0 ? x.Width : o[1]; // PyTorch's None keeps the side
        if (oh == x.Height && ow == x.Width) return x;
        if (oh == 1 && ow == 1)
            return new OnnxValue(graph.AddNode("GlobalAveragePool", path, [x.Name]), [x.Channels, 1, 1]);
        if (x.Height % oh == 0 && x.Width % ow == 0)
        {
            long[] k = [x.Height / oh, x.Width / ow];
            return Pool("AveragePool", path, x, k, k, [0, 0, 0, 0]);
        }
        // [B, C, H, W] x [W, ow] -> [B, C, H, ow]; then [oh, H] x [B, C, H, ow] -> [B, C, oh, ow].
        string columns = graph.AddInitializer(path + ".column_bins", Transpose(BinMatrix(x.Width, ow), ow, x.Width), x.Width, ow);
        string rows = graph.AddInitializer(path + ".row_bins", BinMatrix(x.Height, oh), oh, x.Height);
        string t = graph.AddNode("MatMul", path + ".columns", [x.Name, columns]);
        return new OnnxValue(graph.AddNode("MatMul", path, [rows, t]), [x.Channels, oh, ow]);
    }

    // [outSize, inSize] row-major: row i averages the input cells of PyTorch's adaptive bin i.
    private static float[] BinMatrix(long inSize, long outSize)
    {
        var m = new float[outSize * inSize];
        for (long i = 0; i < outSize; i++)
        {
            long start = i * inSize / outSize, end = ((i + 1) * inSize + outSize - 1) / outSize;
            for (long j = start; j < end; j++) m[i * inSize + j] = 1f / (end - start);
        }
        return m;
    }

    private static float[] Transpose(float[] m, long rows, long cols)
    {
        var t = new float[m.Length];
        for (long r = 0; r < rows; r++)
            for (long c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
        return t;
    }

    private OnnxValue WriteFlatten(string path, OnnxValue x) => x.Shape.Length == 1
        ? x
        : new OnnxValue(graph.AddNode("Flatten", path, [x.Name], A.Int("axis", 1)), [x.Shape.Aggregate(1L, (a, b) => a * b)]); // channel-first, as flatten(1)

    // ---- helpers ----------------------------------------------------------------------------------------

    private static void RequireSpatial(string path, string type, OnnxValue x)
    {
        if (x.Shape.Length != 3)
            throw new OnnxExportException($"cannot export module '{path}' ({type}): needs a [B, C, H, W] input, receives [B, {string.Join(", ", x.Shape)}]");
    }

    private static Dictionary<string, nn.Module> Children(nn.Module module) =>
        module.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);

    private static nn.Module Child(Dictionary<string, nn.Module> children, string name, string type, string? parent = null) =>
        children.TryGetValue(name, out var m) ? m
            : throw new OnnxExportException($"cannot export {type} '{parent ?? type}': it has no submodule '{name}'");

    private static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    private static long[] Pair(long[]? values, long fallback) => values switch
    {
        null or { Length: 0 } => [fallback, fallback],
        { Length: 1 } => [values[0], values[0]],
        _ => [values[0], values[1]],
    };

    internal static float[] Floats(Tensor t)
    {
        using var c = t.detach().cpu().to(ScalarType.Float32).contiguous();
        return c.data<float>().ToArray();
    }
}
