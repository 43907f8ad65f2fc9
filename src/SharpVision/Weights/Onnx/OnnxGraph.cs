using Google.Protobuf;
using Onnx;

namespace SharpVision.Weights.Onnx;

/// <summary>
/// A value flowing through the graph being written: its ONNX name and its shape without the batch axis
/// ([C, H, W] or [F]). Spatial sizes are static (the input side is fixed), so pads and pooling windows
/// are computed at export time.
/// </summary>
internal readonly record struct OnnxValue(string Name, long[] Shape)
{
    public long Channels => Shape[0];
    public long Height => Shape[1];
    public long Width => Shape[2];
}

/// <summary>
/// Accumulates nodes and initializers of one ONNX graph with unique names. Initializers are float32 raw data
/// (little-endian, as ONNX requires and as every platform we run on stores floats).
/// </summary>
internal sealed class OnnxGraph
{
    private readonly GraphProto _graph = new() { Name = "sharpvision" };
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public GraphProto Proto => _graph;

    /// <summary>A name not used yet: <paramref name="stem"/>, else stem_1, stem_2, ...</summary>
    public string Unique(string stem)
    {
        string name = stem;
        for (int i = 1; !_names.Add(name); i++) name = $"{stem}_{i}";
        return name;
    }

    /// <summary>Adds a float32 initializer holding <paramref name="data"/> with shape <paramref name="dims"/>.</summary>
    public string AddInitializer(string stem, float[] data, params long[] dims)
    {
        long count = dims.Aggregate(1L, (a, b) => a * b);
        if (count != data.Length)
            throw new ArgumentException($"initializer {stem}: {data.Length} values for shape [{string.Join(", ", dims)}]");
        var bytes = new byte[data.Length * sizeof(float)];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        string name = Unique(stem);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = UnsafeByteOperations.UnsafeWrap(bytes) };
        t.Dims.AddRange(dims);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds an int64 initializer (shapes for Reshape and the like).</summary>
    public string AddInt64Initializer(string stem, params long[] values)
    {
        string name = Unique(stem);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        _graph.Initializer.Add(t);
        return name;
    }

    /// <summary>Adds a node with one output named after <paramref name="outputStem"/>; returns the output's name.</summary>
    public string AddNode(string opType, string outputStem, IEnumerable<string> inputs, params AttributeProto[] attributes)
    {
        string output = Unique(outputStem);
        var node = new NodeProto { OpType = opType, Name = Unique("node:" + outputStem) };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return output;
    }

    /// <summary>Declares a float32 graph input or output with a batch axis (<c>dim_param</c> "batch" when null).</summary>
    public static ValueInfoProto TensorInfo(string name, int? batch, params long[] shape)
    {
        var tensorShape = new TensorShapeProto();
        tensorShape.Dim.Add(batch is { } b ? new TensorShapeProto.Types.Dimension { DimValue = b } : new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (long d in shape) tensorShape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = tensorShape };
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }

    public void AddInput(ValueInfoProto info)
    {
        _names.Add(info.Name);
        _graph.Input.Add(info);
    }

    public void AddOutput(ValueInfoProto info) => _graph.Output.Add(info);

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
