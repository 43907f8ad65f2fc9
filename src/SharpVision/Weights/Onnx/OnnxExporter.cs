using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Onnx;
using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Weights.Onnx;

/// <summary>
/// Writes a SharpVision classifier as an ONNX model (opset 17) that ONNX Runtime runs with SharpVision's
/// outputs. TorchSharp has no ONNX exporter, so the graph is written here, module by module, for the
/// families we build: <see cref="SequentialModel"/> (smallcnn, minicnn, YAML models), <see cref="ResNet"/> and
/// <see cref="Vgg"/>. Weights become float32 initializers named by their state_dict keys; BatchNorm stays a
/// BatchNormalization node on the running statistics (not folded into the conv), so the graph is exact.
/// <para>
/// Graph: input <c>"input"</c> [N, C, S, S] float32 (already preprocessed, N dynamic unless fixed);
/// outputs <c>"logits"</c> [N, K] (what SharpVision's forward returns: no final sigmoid/softmax) and
/// <c>"probabilities"</c> [N, K] = Sigmoid(logits) when K = 1, Softmax over the classes otherwise.
/// Classes, architecture and preprocessing are stored in <c>metadata_props</c> (see <see cref="OnnxModelInfo"/>).
/// </para>
/// </summary>
public static class OnnxExporter
{
    /// <summary>ONNX operator set written (all our ops are stable there; ONNX Runtime 1.31 runs it).</summary>
    public const int Opset = 17;

    /// <summary>IR version matching opset 17 (ONNX 1.12).</summary>
    public const long IrVersion = 8;

    /// <summary>Exports <paramref name="model"/> to <paramref name="path"/> (written atomically).</summary>
    /// <param name="model">The network; its weights and BatchNorm running statistics are read, its mode is not changed.</param>
    /// <param name="config">Classes, architecture and preprocessing recorded in the metadata; its preprocessing size and channels set the input shape.</param>
    /// <param name="path">Destination .onnx file.</param>
    /// <param name="batch">Fixed batch size, or null for a dynamic batch axis ("batch").</param>
    /// <exception cref="OnnxExportException">A module or layer has no ONNX converter (the message names its path and type).</exception>
    public static void Export(ImageClassifier model, ModelConfig config, string path, int? batch = null)
    {
        Write(Build(model, config, batch), path);
    }

    /// <summary>Writes <paramref name="proto"/> to <paramref name="path"/> atomically (every exporter's last step).</summary>
    internal static void Write(ModelProto proto, string path) => AtomicFile.Write(path, tmp =>
    {
        using var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        proto.WriteTo(fs);
    });

    /// <summary>A SharpVision ModelProto around <paramref name="graph"/>: IR version, producer, opset, doc string and metadata.</summary>
    internal static ModelProto Model(OnnxGraph graph, string docString, IEnumerable<(string Key, string Value)> metadata)
    {
        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "SharpVision",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString() ?? "0",
            ModelVersion = 1,
            DocString = docString,
            Graph = graph.Proto,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in metadata)
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }

    /// <summary>A node that writes a graph output: <paramref name="op"/>(<paramref name="inputs"/>) -> <paramref name="output"/>.</summary>
    internal static void AddOutputNode(OnnxGraph graph, string op, IEnumerable<string> inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = graph.Unique("node:" + output) };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Proto.Node.Add(node);
    }

    /// <summary>The ONNX model in memory (what <see cref="Export"/> writes).</summary>
    public static ModelProto Build(ImageClassifier model, ModelConfig config, int? batch = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        if (batch is < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "a fixed batch must be at least 1");
        var pre = config.Preprocessing;
        if (pre.Channels is not (1 or 3) || pre.Size < 1)
            throw new OnnxExportException($"cannot export: preprocessing must give a positive size and 1 or 3 channels. Received: size={pre.Size}, channels={pre.Channels}");

        var graph = new OnnxGraph();
        var input = OnnxGraph.TensorInfo(OnnxModelInfo.InputName, batch, pre.Channels, pre.Size, pre.Size);
        graph.AddInput(input);
        // Reserve the output names so no layer (a YAML layer may be called "logits") takes them.
        graph.Unique(OnnxModelInfo.LogitsName);
        graph.Unique(OnnxModelInfo.ProbabilitiesName);

        var writer = new OnnxModuleWriter(graph);
        var x = new OnnxValue(OnnxModelInfo.InputName, [pre.Channels, pre.Size, pre.Size]);
        using (no_grad())
        using (NewDisposeScope())
        {
            x = model switch
            {
                SequentialModel s => writer.WriteSequential(s, x),
                ResNet r => writer.WriteResNet(r, x),
                Vgg v => writer.WriteVgg(v, x),
                _ => throw new OnnxExportException(
                    $"cannot export a {model.GetType().Name} ('{model.Info.Architecture}') to ONNX: supported families are SequentialModel, ResNet and Vgg"),
            };
        }
        if (x.Shape.Length != 1)
            throw new OnnxExportException($"cannot export: the network ends with shape [B, {string.Join(", ", x.Shape)}], not [B, classes]");
        long k = x.Shape[0];

        AddOutputNode(graph, "Identity", [x.Name], OnnxModelInfo.LogitsName);
        AddOutputNode(graph, k == 1 ? "Sigmoid" : "Softmax", [x.Name], OnnxModelInfo.ProbabilitiesName, k == 1 ? [] : [OnnxGraph.Int("axis", 1)]);
        graph.AddOutput(OnnxGraph.TensorInfo(OnnxModelInfo.LogitsName, batch, k));
        graph.AddOutput(OnnxGraph.TensorInfo(OnnxModelInfo.ProbabilitiesName, batch, k));

        return Model(graph, $"{config.Architecture} image classifier. input: [N, {pre.Channels}, {pre.Size}, {pre.Size}] float32, preprocessed as in metadata '{OnnxModelInfo.PreprocessingKey}'. " +
                            $"outputs: logits [N, {k}]; probabilities [N, {k}] = {(k == 1 ? "Sigmoid" : "Softmax")}(logits).", Metadata(config, k));
    }

    private static IEnumerable<(string, string)> Metadata(ModelConfig config, long k)
    {
        yield return (OnnxModelInfo.FormatKey, OnnxModelInfo.FormatName);
        yield return (OnnxModelInfo.VersionKey, config.SharpVisionVersion);
        yield return (OnnxModelInfo.ArchitectureKey, config.Architecture);
        yield return (OnnxModelInfo.TaskKey, config.Task);
        yield return (OnnxModelInfo.NumClassesKey, k.ToString(CultureInfo.InvariantCulture));
        yield return (OnnxModelInfo.ClassesKey, JsonSerializer.Serialize(config.Classes, OnnxModelInfo.Json));
        yield return (OnnxModelInfo.PreprocessingKey, JsonSerializer.Serialize(config.Preprocessing, OnnxModelInfo.Json));
        yield return (OnnxModelInfo.MeanImageKey, config.Preprocessing.MeanImage is null ? "false" : "true");
        if (config.Spec is { } spec) yield return (OnnxModelInfo.SpecKey, spec);
        yield return (OnnxModelInfo.OutputsKey,
            $"input: [N, C, S, S] float32 after preprocessing; logits: [N, {k}] raw scores; " +
            $"probabilities: [N, {k}] = {(k == 1 ? "sigmoid(logits) (probability of the positive class)" : "softmax(logits) over the classes")}");
    }
}
