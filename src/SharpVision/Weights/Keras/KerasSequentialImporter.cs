using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using SharpVision.Imaging;
using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Weights.Keras;

/// <summary>What <see cref="KerasSequentialImporter.Import"/> made.</summary>
/// <param name="Model">The classifier with the Keras weights (eval mode).</param>
/// <param name="Config">Its model-file config (architecture custom, the layer spec, classes, 1/255 preprocessing).</param>
/// <param name="Notes">Things the user should know (a final activation we replaced, where the class names came from).</param>
public sealed record KerasSequentialImport(SequentialModel Model, ModelConfig Config, IReadOnlyList<string> Notes);

/// <summary>
/// Imports a Keras 2 <c>Sequential</c> convnet saved with <c>model.save</c> (the architecture is read from the file's
/// <c>model_config</c>, the weights from <c>model_weights/</c>) as a custom <see cref="SequentialModel"/>, whose layers
/// keep their Keras names. Conventions handled:
/// <list type="bullet">
/// <item>Conv2D kernels [kh, kw, in, out] -> [out, in, kh, kw]; Dense kernels [in, out] -> [out, in].</item>
/// <item>Keras' Flatten reads a channels-last map in (H, W, C) order, ours a channels-first one in (C, H, W) order: the
/// first Dense after a Flatten (and a BatchNormalization between them) has its inputs permuted to match.</item>
/// <item>A final sigmoid/softmax becomes logits plus our own sigmoid/softmax at inference, so the probabilities equal
/// Keras'. A one-unit sigmoid model is binary: two class names, the unit's probability being the second's, as
/// <c>flow_from_directory</c>'s alphabetical <c>class_indices</c> give it.</item>
/// <item>Preprocessing: the tutorials' <c>ImageDataGenerator(rescale=1./255)</c>: scale 1/255, no mean or std.</item>
/// <item>BatchNormalization keeps its epsilon and momentum; 'same' padding is TensorFlow's (extra cell bottom/right).</item>
/// </list>
/// </summary>
public static class KerasSequentialImporter
{
    /// <summary>The Keras layer classes this importer reads.</summary>
    public static IReadOnlyList<string> SupportedLayers { get; } =
        ["Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "Flatten", "Dropout", "Dense", "BatchNormalization", "Activation", "InputLayer"];

    /// <summary>Reads <paramref name="h5Path"/> and builds the classifier.</summary>
    /// <param name="h5Path">A Keras 2 <c>model.save</c> file of a Sequential model.</param>
    /// <param name="classNames">Class names (index order); null: <c>class0</c>, <c>class1</c>, ...</param>
    public static KerasSequentialImport Import(string h5Path, IReadOnlyList<string>? classNames = null)
    {
        var file = KerasH5.Read(h5Path);
        if (file.ModelConfig is null)
            throw new ModelFileException($"{h5Path}: no model_config attribute: a model.save_weights file holds weights but no architecture. Save the model with model.save(...) (or use 'import keras-yolo3' for keras-yolo3's weights).");
        var (spec, keras) = ParseConfig(file.ModelConfig, h5Path);
        var notes = new List<string>();
        var head = (DenseSpec)spec.Layers.Last(l => l is DenseSpec);
        var final = spec.Layers[^1] is ActivationSpec a ? a.Activation : head.Activation;
        if (final is not (ActivationKind.Sigmoid or ActivationKind.Softmax or ActivationKind.Linear))
            throw new ModelFileException($"{h5Path}: the model ends with a {KerasNames.Of(final)} activation; a classifier must end with sigmoid, softmax or linear (logits).");
        if (final == ActivationKind.Linear)
            notes.Add($"the last Dense has a linear activation: its outputs are read as logits ({(head.Units == 1 ? "sigmoid" : "softmax")} at inference).");
        int classCount = head.Units == 1 ? 2 : head.Units;
        if (classNames is not null && classNames.Count != classCount)
            throw new InvalidOptionException("KerasSequentialImporter.Classes", $"{classCount} names (the model has {head.Units} output unit{(head.Units == 1 ? ", a binary classifier" : "s")})", $"{classNames.Count} names");
        var classes = classNames ?? Enumerable.Range(0, classCount).Select(i => "class" + i.ToString(CultureInfo.InvariantCulture)).ToList();

        var preprocessing = new Preprocessing
        {
            Size = spec.InputSize,
            Channels = spec.Channels,
            Scale = 1f / 255f,
            Mean = new float[spec.Channels],
            Std = Enumerable.Repeat(1f, spec.Channels).ToArray(),
        };
        var model = new SequentialModel(spec, null, "custom", preprocessing);
        try
        {
            LoadWeights(model, keras, file, h5Path);
            model.eval();
            var config = new ModelConfig
            {
                Architecture = "custom",
                Spec = ModelYaml.ToYaml(model.Spec),
                NumClasses = head.Units,
                Classes = classes,
                Preprocessing = preprocessing,
            };
            return new KerasSequentialImport(model, config, notes);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>One Keras layer of the config: its name, class and the spec it became (null for InputLayer).</summary>
    private sealed record KerasLayer(string Name, string ClassName, LayerSpec? Spec);

    /// <summary>
    /// The <c>model_config</c> JSON of a Sequential model -> our layer spec. Keras 2.0-2.1 write
    /// <c>{"class_name": "Sequential", "config": [layers]}</c>, 2.2 and tf.keras <c>{"config": {"name", "layers": [...]}}</c>;
    /// the input shape is the first layer's (or an InputLayer's) <c>batch_input_shape</c> [null, H, W, C].
    /// </summary>
    private static (ModelSpec Spec, List<KerasLayer> Layers) ParseConfig(string json, string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new ModelFileException($"{path}: model_config is not valid JSON ({e.Message}).", e); }
        using var _ = doc;
        var root = doc.RootElement;
        string className = root.TryGetProperty("class_name", out var cn) ? cn.GetString() ?? "" : "";
        if (className != "Sequential")
            throw new ModelFileException($"{path}: the model is a {(className.Length == 0 ? "model without class_name" : className)}; 'import keras' reads Sequential models (for keras-yolo3 detectors use 'import keras-yolo3').");
        var config = root.GetProperty("config");
        var layersJson = config.ValueKind == JsonValueKind.Array ? config : config.GetProperty("layers");
        string name = config.ValueKind == JsonValueKind.Object && config.TryGetProperty("name", out var n) && n.GetString() is { Length: > 0 } s ? s : "keras";

        int? height = null, width = null, channels = null;
        var layers = new List<KerasLayer>();
        foreach (var layer in layersJson.EnumerateArray())
        {
            string cls = layer.GetProperty("class_name").GetString() ?? "";
            var c = layer.GetProperty("config");
            string layerName = c.TryGetProperty("name", out var ln) ? ln.GetString() ?? cls : cls;
            if (height is null && c.TryGetProperty("batch_input_shape", out var shape) && shape.ValueKind == JsonValueKind.Array)
            {
                var dims = shape.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number ? d.GetInt32() : (int?)null).ToArray();
                if (dims.Length != 4 || dims[1] is null || dims[2] is null || dims[3] is null)
                    throw new ModelFileException($"{path}: layer '{layerName}' ({cls}) has batch_input_shape [{string.Join(", ", dims.Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? "null"))}]; an image classifier needs [null, height, width, channels] with all three known.");
                (height, width, channels) = (dims[1], dims[2], dims[3]);
            }
            if (c.TryGetProperty("data_format", out var df) && df.GetString() is { } format && format != "channels_last")
                throw new ModelFileException($"{path}: layer '{layerName}' ({cls}) has data_format={format}; only channels_last (Keras' default) is supported.");
            layers.Add(new KerasLayer(layerName, cls, ToSpec(cls, layerName, c, path)));
        }
        if (height is null) throw new ModelFileException($"{path}: no layer has a batch_input_shape, so the input size is unknown.");
        if (height != width) throw new ModelFileException($"{path}: the input is {width}x{height}; SharpVision classifiers take square inputs.");
        if (channels is not (1 or 3)) throw new ModelFileException($"{path}: the input has {channels} channels; 1 (grayscale) or 3 (RGB) are supported.");
        var spec = new ModelSpec(name.Replace('-', '_'), height.Value, channels.Value, layers.Where(l => l.Spec is not null).Select(l => l.Spec!).ToImmutableArray());
        return (spec, layers);
    }

    private static LayerSpec? ToSpec(string cls, string name, JsonElement c, string path)
    {
        string where = $"layer '{name}' ({cls})";
        int Square(string key, int? fallback = null)
        {
            if (!c.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
                return fallback ?? throw new ModelFileException($"{path}: {where} has no {key}.");
            if (v.ValueKind == JsonValueKind.Number) return v.GetInt32();
            var pair = v.EnumerateArray().Select(e => e.GetInt32()).ToArray();
            if (pair.Length != 2 || pair[0] != pair[1])
                throw new ModelFileException($"{path}: {where} has {key}=[{string.Join(", ", pair)}]; only square values are supported.");
            return pair[0];
        }
        string Text(string key, string fallback) => c.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : fallback;
        double Number(string key, double fallback) => c.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
        bool Flag(string key, bool fallback) => c.TryGetProperty(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;
        ActivationKind Activation()
        {
            string text = Text("activation", "linear");
            // Keras 2 has no leaky_relu activation string; ours would use another slope.
            return text != "leaky_relu" && KerasNames.ParseActivation(text) is { } a ? a
                : throw new ModelFileException($"{path}: {where} has activation={text}; supported: relu, sigmoid, softmax, tanh, elu, linear.");
        }
        PaddingKind Padding() => KerasNames.ParsePadding(Text("padding", "valid")) is { } p ? p
            : throw new ModelFileException($"{path}: {where} has padding={Text("padding", "")}; supported: valid, same.");

        LayerSpec? spec = cls switch
        {
            "InputLayer" => null,
            "Conv2D" => Square("dilation_rate", 1) != 1
                ? throw new ModelFileException($"{path}: {where} has a dilation rate; only 1 is supported.")
                : new Conv2DSpec(Square("filters"), Square("kernel_size"), Square("strides", 1), Padding(), Activation(), Flag("use_bias", true)),
            "MaxPooling2D" => new MaxPooling2DSpec(Square("pool_size", 2), Square("strides", Square("pool_size", 2)), Padding()),
            "AveragePooling2D" => new AveragePooling2DSpec(Square("pool_size", 2), Square("strides", Square("pool_size", 2)), Padding()),
            "GlobalAveragePooling2D" => new GlobalAveragePooling2DSpec(),
            "Flatten" => new FlattenSpec(),
            "Dropout" => new DropoutSpec(Number("rate", 0)),
            "Dense" => new DenseSpec(Square("units"), Activation(), Flag("use_bias", true)),
            "BatchNormalization" => BatchNorm(c, where, path, Number("momentum", 0.99), Number("epsilon", 1e-3)),
            "Activation" => new ActivationSpec(Activation()),
            _ => throw new ModelFileException($"{path}: {where} is not supported; supported layers: {string.Join(", ", SupportedLayers)}."),
        };
        return spec is null ? null : spec with { Name = name };
    }

    private static BatchNormalizationSpec BatchNorm(JsonElement c, string where, string path, double momentum, double epsilon)
    {
        if (c.TryGetProperty("axis", out var axis))
        {
            int value = axis.ValueKind == JsonValueKind.Array ? axis.EnumerateArray().Single().GetInt32() : axis.GetInt32();
            if (value is not (-1 or 3))
                throw new ModelFileException($"{path}: {where} normalises axis {value}; only the channel (last) axis, -1, is supported.");
        }
        return new BatchNormalizationSpec(momentum, epsilon);
    }

    private static void LoadWeights(SequentialModel model, List<KerasLayer> keras, KerasH5 file, string path)
    {
        var built = model.Layers;
        var state = new Dictionary<string, Tensor>();
        using var scope = NewDisposeScope();
        // Set by a Flatten of a [C, H, W] map with H*W > 1: until the next Dense, per-feature weights come in Keras' (H, W, C) order.
        long[]? flattened = null;
        long[] previous = [model.Spec.Channels, model.Spec.InputSize, model.Spec.InputSize];
        foreach (var layer in built)
        {
            var weights = file.Layer(layer.Name);
            KerasWeight Need(string shortName) => weights?.Find(shortName)
                ?? throw new ModelFileException($"{path}: layer '{layer.Name}' ({layer.Spec.TypeName}) has no {shortName} weight in model_weights/.");
            switch (layer.Spec)
            {
                case Conv2DSpec c:
                    state[layer.Name + ".weight"] = Tensor4(Need("kernel")).permute(3, 2, 0, 1);           // [kh, kw, in, out] -> [out, in, kh, kw]
                    if (c.UseBias) state[layer.Name + ".bias"] = tensor(Need("bias").Data);
                    break;
                case DenseSpec d:
                {
                    var k = Need("kernel");
                    var kernel = tensor(k.Data, k.Shape);                                                    // [in, units]
                    if (flattened is { } chw)
                        kernel = FlattenedDenseKernel(kernel, chw[0], chw[1], chw[2]);                       // [units, C*H*W]
                    else
                        kernel = kernel.t();                                                                 // [units, in]
                    state[layer.Name + ".weight"] = kernel;
                    if (d.UseBias) state[layer.Name + ".bias"] = tensor(Need("bias").Data);
                    flattened = null;
                    break;
                }
                case BatchNormalizationSpec:
                {
                    long n = layer.OutputShape[0];
                    Tensor Vector(string shortName, float fallback)
                    {
                        var w = weights?.Find(shortName);
                        var t = w is null ? full(n, fallback) : tensor(w.Data);
                        return flattened is { } chw ? FlattenedVector(t, chw[0], chw[1], chw[2]) : t;
                    }
                    if (weights?.Find("moving_mean") is null || weights.Find("moving_variance") is null)
                        throw new ModelFileException($"{path}: layer '{layer.Name}' (BatchNormalization) lacks moving_mean or moving_variance.");
                    state[layer.Name + ".weight"] = Vector("gamma", 1);    // scale=False: gamma is 1
                    state[layer.Name + ".bias"] = Vector("beta", 0);       // center=False: beta is 0
                    state[layer.Name + ".running_mean"] = Vector("moving_mean", 0);
                    state[layer.Name + ".running_var"] = Vector("moving_variance", 1);
                    state[layer.Name + ".num_batches_tracked"] = tensor(0L);
                    break;
                }
                case FlattenSpec:
                    flattened = previous.Length == 3 && previous[1] * previous[2] > 1 ? previous : null;
                    break;
            }
            previous = layer.OutputShape;
        }
        foreach (var l in keras.Where(l => l.Spec is null && file.Layer(l.Name) is { Weights.Count: > 0 }))
            throw new ModelFileException($"{path}: layer '{l.Name}' ({l.ClassName}) has weights that no SharpVision layer takes.");
        StateDicts.LoadStrict(model, state, path);
    }

    private static Tensor Tensor4(KerasWeight w) => w.Shape.Length == 4 ? tensor(w.Data, w.Shape)
        : throw new ModelFileException($"a Conv2D kernel must have 4 dimensions; '{w.Name}' has [{string.Join(", ", w.Shape)}].");

    /// <summary>
    /// The kernel of a Dense after Keras' channels-last Flatten, [H*W*C, units] with rows in (h, w, c) order, as our
    /// Linear weight for a channels-first Flatten: [units, C*H*W] with columns in (c, h, w) order.
    /// </summary>
    public static Tensor FlattenedDenseKernel(Tensor kerasKernel, long channels, long height, long width)
    {
        long units = kerasKernel.shape[1];
        return kerasKernel.reshape(height, width, channels, units)                                  // [H, W, C, units]
            .permute(3, 2, 0, 1)                                                                     // [units, C, H, W]
            .reshape(units, channels * height * width).contiguous();                                 // [units, C*H*W]
    }

    /// <summary>A per-feature vector after Keras' Flatten, [H*W*C] in (h, w, c) order, in our (c, h, w) order.</summary>
    public static Tensor FlattenedVector(Tensor kerasVector, long channels, long height, long width) =>
        kerasVector.reshape(height, width, channels).permute(2, 0, 1).reshape(-1).contiguous();       // [C*H*W]
}
