using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using SharpVision.Imaging;

namespace SharpVision.Weights.Pretrained;

/// <summary>One weight read from a pretrained file, under our state_dict key.</summary>
/// <param name="Key">state_dict key in torchvision naming (<c>layer2.0.downsample.1.running_var</c>).</param>
/// <param name="Shape">Tensor shape.</param>
/// <param name="Values">Row-major float32 values.</param>
public sealed record PretrainedTensor(string Key, long[] Shape, float[] Values);

/// <summary>What the ML.NET ResNet-18 graph turned out to hold.</summary>
/// <param name="InputSize">Square input side the graph was exported for (224).</param>
/// <param name="Blocks">Basic blocks per stage, read from the graph ([2, 2, 2, 3]).</param>
/// <param name="Epsilon">BatchNormalization epsilon (the same on every BN node).</param>
/// <param name="Tensors">Backbone weights under torchvision-style keys, in graph order.</param>
public sealed record MlNetBackbone(int InputSize, IReadOnlyList<int> Blocks, float Epsilon, IReadOnlyList<PretrainedTensor> Tensors);

/// <summary>
/// Walks the CNTK-exported ONNX graph of the ML.NET ResNet-18 and maps its anonymous initializers
/// (<c>Parameter91</c>, <c>Constant98</c>, ...) to torchvision names by structure: stem Conv-BN-Relu-MaxPool,
/// then residual blocks found from their Add nodes (a block with a 1x1 shortcut conv starts a new stage), down
/// to the global average pool. Every layer is checked against what our <c>ResNet</c> computes: kernel, stride,
/// no bias, BN epsilon, and padding. CNTK pads asymmetrically (e.g. <c>[3, 3, 2, 2]</c> for the stem): the
/// begin pads must equal ours and the output size at the graph's input size must be the same, in which case
/// the extra end row/column of our symmetric padding is never read and the results are identical.
/// </summary>
internal sealed class MlNetGraphReader
{
    /// <summary>Epsilon of TorchSharp's BatchNorm2d, which our ResNet uses.</summary>
    public const float TorchEpsilon = 1e-5f;

    private readonly string _origin;
    private readonly Dictionary<string, TensorProto> _initializers;
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);
    private readonly List<PretrainedTensor> _tensors = [];
    private float? _epsilon;

    private MlNetGraphReader(string origin, GraphProto graph)
    {
        _origin = origin;
        _initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var node in graph.Node)
            foreach (string input in node.Input)
            {
                if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = [];
                list.Add(node);
            }
    }

    /// <summary>Parses an ONNX file (wrapping protobuf/IO failures in a <see cref="ModelFileException"/>).</summary>
    public static ModelProto Parse(string path)
    {
        try
        {
            return ModelProto.Parser.ParseFromFile(path);
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or IOException)
        {
            throw new ModelFileException($"{path}: not a readable ONNX model ({e.Message}).", e);
        }
    }

    /// <summary>Reads the backbone weights of <paramref name="path"/> (the package's ResNet18.onnx).</summary>
    public static MlNetBackbone ReadBackbone(string path)
    {
        var graph = Parse(path).Graph;
        return new MlNetGraphReader(path, graph).Walk(graph);
    }

    /// <summary>
    /// Reads the package's preprocessing model (Split RGB, Concat as BGR, Sub MeanImage [1, 3, S, S]) into a
    /// <see cref="Preprocessing"/>: S x S, BGR, 0..255 values, the mean image in BGR order.
    /// </summary>
    public static Preprocessing ReadPreprocessing(string path)
    {
        var graph = Parse(path).Graph;
        var reader = new MlNetGraphReader(path, graph);
        var input = reader.ImageInput(graph, out int size);
        var split = reader.Only(input, "Split");
        if (split.Output.Count != 3 || Ints(split, "axis", [1])[0] != 1)
            throw reader.Fail("the preprocessing model does not split the input into 3 channels");
        var concat = reader.Only(split.Output[0], "Concat");
        string order = concat.Input.SequenceEqual([split.Output[2], split.Output[1], split.Output[0]]) ? "BGR"
            : concat.Input.SequenceEqual(split.Output) ? "RGB"
            : throw reader.Fail("the preprocessing model's Concat is neither RGB nor BGR order");
        var sub = reader.Only(concat.Output[0], "Sub");
        if (sub.Input.Count != 2 || sub.Input[0] != concat.Output[0] || !reader._initializers.TryGetValue(sub.Input[1], out var mean))
            throw reader.Fail("the preprocessing model does not subtract a constant mean image");
        if (!mean.Dims.SequenceEqual([1L, 3L, size, size]))
            throw reader.Fail($"mean image has shape [{string.Join(", ", mean.Dims)}], expected [1, 3, {size}, {size}]");
        if (!graph.Output.Any(o => o.Name == sub.Output[0]))
            throw reader.Fail("the preprocessing model does more than Split, Concat and Sub");
        return new Preprocessing
        {
            Size = size,
            Channels = 3,
            ChannelOrder = order,
            Scale = 1f,
            Mean = [0f, 0f, 0f],
            Std = [1f, 1f, 1f],
            MeanImage = reader.Floats(mean),
            Interpolation = Interpolation.Bilinear,
        };
    }

    private MlNetBackbone Walk(GraphProto graph)
    {
        string input = ImageInput(graph, out int inputSize);
        int size = inputSize;

        // Stem: Conv 7x7/2 -> BN -> Relu -> MaxPool 3x3/2.                     // [1, 64, 56, 56] at 224
        var conv = Only(input, "Conv");
        size = Conv(conv, "conv1", kernel: 7, stride: 2, padding: 3, size);
        var bn = Only(conv.Output[0], "BatchNormalization");
        BatchNorm(bn, "bn1");
        var relu = Only(bn.Output[0], "Relu");
        var pool = Only(relu.Output[0], "MaxPool");
        size = MaxPool(pool, size);

        string x = pool.Output[0];
        var blocks = new List<int>();
        while (true)
        {
            var consumers = Consumers(x);
            var head = consumers.FirstOrDefault(n => n.OpType is "AveragePool" or "GlobalAveragePool");
            if (head is not null)
            {
                GlobalPool(head, size, graph);
                break;
            }
            var convs = consumers.Where(n => n.OpType == "Conv").ToList();
            var shortcutConv = convs.FirstOrDefault(c => Kernel(c) == 1);
            var mainConv = convs.FirstOrDefault(c => Kernel(c) == 3)
                ?? throw Fail($"no 3x3 convolution reads '{x}' (expected a residual block or the final pooling)");
            if (convs.Count != (shortcutConv is null ? 1 : 2))
                throw Fail($"'{x}' feeds {convs.Count} convolutions; a basic block has one, or two with a shortcut");

            // A 1x1 shortcut conv starts a new stage (layer2..4); layer1's first block has none.
            if (blocks.Count == 0 || shortcutConv is not null) blocks.Add(0);
            string prefix = $"layer{blocks.Count}.{blocks[^1]}";
            blocks[^1]++;

            int stride = (int)Ints(mainConv, "strides", [1, 1])[0];
            int blockInput = size;
            size = Conv(mainConv, prefix + ".conv1", 3, stride, 1, size);
            var bn1 = Only(mainConv.Output[0], "BatchNormalization");
            BatchNorm(bn1, prefix + ".bn1");
            var relu1 = Only(bn1.Output[0], "Relu");
            var conv2 = Only(relu1.Output[0], "Conv");
            Conv(conv2, prefix + ".conv2", 3, 1, 1, size);
            var bn2 = Only(conv2.Output[0], "BatchNormalization");
            BatchNorm(bn2, prefix + ".bn2");

            string shortcut = x;
            if (shortcutConv is not null)
            {
                if (Conv(shortcutConv, prefix + ".downsample.0", 1, stride, 0, blockInput) != size)
                    throw Fail($"{prefix}: the shortcut's output size differs from the block's");
                var shortcutBn = Only(shortcutConv.Output[0], "BatchNormalization");
                BatchNorm(shortcutBn, prefix + ".downsample.1");
                shortcut = shortcutBn.Output[0];
            }
            else if (stride != 1)
                throw Fail($"{prefix}: stride {stride} without a shortcut convolution");

            var add = Only(bn2.Output[0], "Add");
            if (add.Input.Count != 2 || !add.Input.Contains(shortcut))
                throw Fail($"{prefix}: the residual Add does not read the shortcut '{shortcut}'");
            x = Only(add.Output[0], "Relu").Output[0];
        }
        if (blocks.Count != 4)
            throw Fail($"found {blocks.Count} stages, expected 4 ([{string.Join(", ", blocks)}] blocks)");
        int used = _tensors.Count;
        if (used != _initializers.Count)
            throw Fail($"{_initializers.Count - used} initializers are not part of the conv/BN layers we map");
        return new MlNetBackbone(inputSize, blocks, _epsilon ?? TorchEpsilon, _tensors);
    }

    private string ImageInput(GraphProto graph, out int size)
    {
        var input = graph.Input.FirstOrDefault(i => !_initializers.ContainsKey(i.Name)) ?? throw Fail("the graph has no image input");
        var dims = input.Type?.TensorType?.Shape?.Dim.Select(d => d.DimValue).ToArray() ?? [];
        if (dims.Length != 4 || dims[1] != 3 || dims[2] != dims[3] || dims[2] < 1)
            throw Fail($"input '{input.Name}' has shape [{string.Join(", ", dims)}], expected [1, 3, S, S]");
        size = (int)dims[2];
        return input.Name;
    }

    // Conv without bias; returns the output side. Checks kernel, stride, groups, dilation and that CNTK's pads
    // give the same windows as a symmetric `padding` at this input side.
    private int Conv(NodeProto node, string key, int kernel, int stride, int padding, int size)
    {
        if (node.Input.Count != 2)
            throw Fail($"{key}: convolution '{node.Output[0]}' has a bias; ResNet convolutions have none");
        if (Ints(node, "group", [1])[0] != 1 || Ints(node, "dilations", [1, 1]).Any(d => d != 1))
            throw Fail($"{key}: grouped or dilated convolution");
        if (Kernel(node) != kernel)
            throw Fail($"{key}: kernel {Kernel(node)}, expected {kernel}");
        var weight = Initializer(node.Input[1], key);
        if (weight.Dims.Count != 4 || weight.Dims[2] != kernel || weight.Dims[3] != kernel)
            throw Fail($"{key}: weight shape [{string.Join(", ", weight.Dims)}] is not [out, in, {kernel}, {kernel}]");
        Add(key + ".weight", weight);
        return Window(node, key, kernel, stride, padding, size);
    }

    private int MaxPool(NodeProto node, int size)
    {
        if (Ints(node, "kernel_shape", []).Any(k => k != 3) || Ints(node, "ceil_mode", [0])[0] != 0 || Ints(node, "storage_order", [0])[0] != 0)
            throw Fail("maxpool: expected a 3x3 window in floor mode");
        return Window(node, "maxpool", 3, 2, 1, size);
    }

    private int Window(NodeProto node, string key, int kernel, int stride, int padding, int size)
    {
        string autoPad = Attribute(node, "auto_pad")?.S.ToStringUtf8() ?? "NOTSET";
        if (autoPad is not ("NOTSET" or ""))
            throw Fail($"{key}: auto_pad={autoPad} (only explicit pads are mapped)");
        var strides = Ints(node, "strides", [1, 1]);
        if (strides.Count != 2 || strides.Any(s => s != stride))
            throw Fail($"{key}: strides [{string.Join(", ", strides)}], expected [{stride}, {stride}]");
        var pads = Ints(node, "pads", [0, 0, 0, 0]); // [top, left, bottom, right]
        int ours = Out(size, kernel, stride, padding, padding);
        if (pads.Count != 4 || pads[0] != padding || pads[1] != padding
            || Out(size, kernel, stride, (int)pads[0], (int)pads[2]) != ours
            || Out(size, kernel, stride, (int)pads[1], (int)pads[3]) != ours)
            throw Fail($"{key}: pads [{string.Join(", ", pads)}] at input side {size} do not give the same windows as padding {padding}");
        return ours;
    }

    private static int Out(int size, int kernel, int stride, int begin, int end) => (size + begin + end - kernel) / stride + 1;

    private void BatchNorm(NodeProto node, string key)
    {
        if (node.Input.Count != 5)
            throw Fail($"{key}: BatchNormalization with {node.Input.Count} inputs, expected 5");
        if (Ints(node, "spatial", [1])[0] != 1)
            throw Fail($"{key}: per-activation (spatial=0) BatchNormalization");
        float epsilon = Attribute(node, "epsilon")?.F ?? TorchEpsilon;
        if (Math.Abs(epsilon - TorchEpsilon) > 1e-9f)
            throw Fail($"{key}: BatchNormalization epsilon {epsilon}, but our BatchNorm2d uses {TorchEpsilon}");
        _epsilon = epsilon;
        string[] names = ["weight", "bias", "running_mean", "running_var"];
        for (int i = 0; i < 4; i++)
        {
            var t = Initializer(node.Input[i + 1], key);
            if (t.Dims.Count != 1) throw Fail($"{key}.{names[i]}: shape [{string.Join(", ", t.Dims)}] is not 1-D");
            Add($"{key}.{names[i]}", t);
        }
    }

    private void GlobalPool(NodeProto node, int size, GraphProto graph)
    {
        if (node.OpType == "AveragePool")
        {
            var kernel = Ints(node, "kernel_shape", []);
            if (kernel.Count != 2 || kernel.Any(k => k != size) || Ints(node, "pads", [0, 0, 0, 0]).Any(p => p != 0))
                throw Fail($"average pool [{string.Join(", ", kernel)}] is not global over the {size}x{size} map");
        }
        if (!graph.Output.Any(o => o.Name == node.Output[0]))
            throw Fail("the network goes on after the global average pool");
    }

    private int Kernel(NodeProto conv)
    {
        var k = Ints(conv, "kernel_shape", []);
        if (k.Count == 2 && k[0] == k[1]) return (int)k[0];
        if (k.Count == 0 && _initializers.TryGetValue(conv.Input[1], out var w) && w.Dims.Count == 4 && w.Dims[2] == w.Dims[3])
            return (int)w.Dims[2];
        throw Fail($"convolution '{conv.Output[0]}' has a non-square kernel");
    }

    private NodeProto Only(string tensor, string opType)
    {
        var nodes = Consumers(tensor).Where(n => n.OpType == opType).ToList();
        return nodes.Count == 1 ? nodes[0] : throw Fail($"expected one {opType} reading '{tensor}', found {nodes.Count}");
    }

    private List<NodeProto> Consumers(string tensor) => _consumers.TryGetValue(tensor, out var list) ? list : [];

    private TensorProto Initializer(string name, string key) =>
        _initializers.TryGetValue(name, out var t) ? t : throw Fail($"{key}: '{name}' is computed, not a stored weight");

    private void Add(string key, TensorProto t) => _tensors.Add(new PretrainedTensor(key, t.Dims.ToArray(), Floats(t)));

    private float[] Floats(TensorProto t)
    {
        if ((TensorProto.Types.DataType)t.DataType != TensorProto.Types.DataType.Float)
            throw Fail($"'{t.Name}' is {(TensorProto.Types.DataType)t.DataType}, expected float32");
        long count = t.Dims.Aggregate(1L, (a, d) => a * d);
        var values = new float[count];
        if (t.RawData.Length > 0)
        {
            // ONNX raw_data is little-endian.
            if (!BitConverter.IsLittleEndian) throw Fail("raw float data on a big-endian machine");
            if (t.RawData.Length != count * sizeof(float)) throw Fail($"'{t.Name}' holds {t.RawData.Length} bytes for {count} floats");
            MemoryMarshal.Cast<byte, float>(t.RawData.Span).CopyTo(values);
        }
        else
        {
            if (t.FloatData.Count != count) throw Fail($"'{t.Name}' holds {t.FloatData.Count} floats, its shape says {count}");
            t.FloatData.CopyTo(values, 0);
        }
        return values;
    }

    private static AttributeProto? Attribute(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name);

    private static IReadOnlyList<long> Ints(NodeProto node, string name, long[] fallback)
    {
        var a = Attribute(node, name);
        if (a is null) return fallback;
        return a.Type == AttributeProto.Types.AttributeType.Int ? [a.I] : a.Ints.ToArray();
    }

    private ModelFileException Fail(string reason) =>
        new($"{_origin}: not the ML.NET ResNet-18 layout SharpVision maps: {reason}.");
}
