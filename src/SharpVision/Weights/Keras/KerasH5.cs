using PureHDF;

namespace SharpVision.Weights.Keras;

/// <summary>One weight of a Keras layer as stored: its full name (<c>conv2d_1/kernel:0</c>), Keras shape and values.</summary>
/// <param name="Name">The name in the layer's <c>weight_names</c> attribute.</param>
/// <param name="Shape">Keras' shape: a Conv2D kernel is [kh, kw, in, out], a Dense kernel [in, out].</param>
/// <param name="Data">The values in row-major order of <paramref name="Shape"/>.</param>
public sealed record KerasWeight(string Name, long[] Shape, float[] Data)
{
    /// <summary>The name without scope and index: <c>kernel</c>, <c>bias</c>, <c>gamma</c>, <c>moving_variance</c>, ...</summary>
    public string ShortName
    {
        get
        {
            string n = Name[(Name.LastIndexOf('/') + 1)..];
            int colon = n.LastIndexOf(':');
            return colon < 0 ? n : n[..colon];
        }
    }
}

/// <summary>A layer's group in a Keras <c>.h5</c>: its name and its weights in <c>weight_names</c> order (none for most layers).</summary>
public sealed record KerasLayerWeights(string Name, IReadOnlyList<KerasWeight> Weights)
{
    /// <summary>The weight whose <see cref="KerasWeight.ShortName"/> is <paramref name="shortName"/>, or null.</summary>
    public KerasWeight? Find(string shortName) => Weights.FirstOrDefault(w => w.ShortName == shortName);
}

/// <summary>
/// The one reader of Keras 2 HDF5 files (PureHDF, no native HDF5), for both kinds Keras writes:
/// <list type="bullet">
/// <item><c>model.save</c>: root attributes <c>model_config</c> (JSON), <c>keras_version</c>, <c>backend</c>; the weights under
/// <c>model_weights/</c>.</item>
/// <item><c>model.save_weights</c>: the weights at the root, no <c>model_config</c>.</item>
/// </list>
/// Either way the weights group has the attribute <c>layer_names</c> (model.layers order; split into <c>layer_names0</c>,
/// <c>layer_names1</c>, ... when longer than an HDF5 header holds) and one group per layer whose attribute
/// <c>weight_names</c> lists its datasets, paths relative to the layer group (<c>conv2d_1/kernel:0</c>).
/// </summary>
public sealed class KerasH5
{
    private KerasH5(string path, string? modelConfig, string? kerasVersion, string? backend, IReadOnlyList<KerasLayerWeights> layers)
    {
        Path = path;
        ModelConfig = modelConfig;
        KerasVersion = kerasVersion;
        Backend = backend;
        Layers = layers;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }
    /// <summary>The <c>model_config</c> JSON of a full-model file; null for a weights-only file.</summary>
    public string? ModelConfig { get; }
    /// <summary>The <c>keras_version</c> attribute (e.g. 2.1.5), or null.</summary>
    public string? KerasVersion { get; }
    /// <summary>The <c>backend</c> attribute (e.g. tensorflow), or null.</summary>
    public string? Backend { get; }
    /// <summary>Every layer of <c>layer_names</c>, in that order, with its weights.</summary>
    public IReadOnlyList<KerasLayerWeights> Layers { get; }

    /// <summary>The layer named <paramref name="name"/>, or null.</summary>
    public KerasLayerWeights? Layer(string name) => Layers.FirstOrDefault(l => l.Name == name);

    /// <summary>Reads the attributes and every weight (as float32) of a Keras <c>.h5</c> file.</summary>
    /// <exception cref="ModelFileException">Missing file, not HDF5, or not laid out as Keras writes it.</exception>
    public static KerasH5 Read(string path)
    {
        if (!File.Exists(path)) throw new ModelFileException($"{path}: Keras file not found.");
        try
        {
            using var file = H5File.OpenRead(path);
            string? config = StringAttribute(file, "model_config");
            IH5Group weights = file;
            if (file.LinkExists("model_weights") && file.Get("model_weights") is IH5Group group) weights = group;
            var names = StringListAttribute(weights, "layer_names")
                ?? throw new ModelFileException($"{path}: no layer_names attribute (at the root or in model_weights/): not a Keras model.save or model.save_weights file.");
            var layers = new List<KerasLayerWeights>(names.Count);
            foreach (string name in names)
            {
                if (!weights.LinkExists(name) || weights.Get(name) is not IH5Group layerGroup)
                    throw new ModelFileException($"{path}: layer_names lists '{name}' but the file has no group of that name.");
                var weightNames = StringListAttribute(layerGroup, "weight_names") ?? [];
                var list = new List<KerasWeight>(weightNames.Count);
                foreach (string weightName in weightNames)
                {
                    if (!layerGroup.LinkExists(weightName) || layerGroup.Get(weightName) is not IH5Dataset dataset)
                        throw new ModelFileException($"{path}: layer '{name}' lists weight '{weightName}' but has no dataset of that name.");
                    list.Add(new KerasWeight(weightName, dataset.Space.Dimensions.Select(d => (long)d).ToArray(), Floats(dataset, path, name, weightName)));
                }
                layers.Add(new KerasLayerWeights(name, list));
            }
            return new KerasH5(path, config, StringAttribute(file, "keras_version") ?? StringAttribute(weights, "keras_version"),
                StringAttribute(file, "backend") ?? StringAttribute(weights, "backend"), layers);
        }
        catch (Exception e) when (e is not ModelFileException and not OutOfMemoryException)
        {
            throw new ModelFileException($"{path}: not a readable Keras HDF5 file ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    private static float[] Floats(IH5Dataset dataset, string path, string layer, string weight)
    {
        var type = dataset.Type;
        if (type.Class != H5DataTypeClass.FloatingPoint)
            throw new ModelFileException($"{path}: weight '{weight}' of layer '{layer}' is not floating point ({type.Class}).");
        return type.Size switch
        {
            4 => dataset.Read<float[]>(),
            8 => dataset.Read<double[]>().Select(v => (float)v).ToArray(),
            _ => throw new ModelFileException($"{path}: weight '{weight}' of layer '{layer}' has {type.Size}-byte floats; float32 and float64 are supported."),
        };
    }

    // Keras writes text attributes as bytes (fixed-length strings to HDF5); tf.keras as variable-length UTF-8.
    private static string? StringAttribute(IH5Object owner, string name)
    {
        if (!owner.AttributeExists(name)) return null;
        var attribute = owner.Attribute(name);
        if (attribute.Type.Class != H5DataTypeClass.String && attribute.Type.Class != H5DataTypeClass.VariableLength) return null;
        return attribute.Space.Rank == 0 ? attribute.Read<string>() : attribute.Read<string[]>().FirstOrDefault();
    }

    /// <summary>
    /// A list-of-names attribute, or its chunks <c>name0</c>, <c>name1</c>, ... (Keras' save_attributes_to_hdf5_group);
    /// null when absent. An empty list (Keras stores it as an empty float array) gives an empty list.
    /// </summary>
    private static List<string>? StringListAttribute(IH5Object owner, string name)
    {
        if (owner.AttributeExists(name)) return Strings(owner.Attribute(name));
        if (!owner.AttributeExists(name + "0")) return null;
        var all = new List<string>();
        for (int chunk = 0; owner.AttributeExists(name + chunk); chunk++) all.AddRange(Strings(owner.Attribute(name + chunk)));
        return all;
    }

    private static List<string> Strings(IH5Attribute attribute)
    {
        if (attribute.Space.Dimensions.Aggregate(1UL, (a, b) => a * b) == 0) return [];
        if (attribute.Type.Class != H5DataTypeClass.String && attribute.Type.Class != H5DataTypeClass.VariableLength) return [];
        // Fixed-length strings are NUL-padded in HDF5; PureHDF stops at the first NUL, trimmed here to be sure.
        return attribute.Space.Rank == 0 ? [attribute.Read<string>().TrimEnd('\0')] : attribute.Read<string[]>().Select(s => s.TrimEnd('\0')).ToList();
    }
}
