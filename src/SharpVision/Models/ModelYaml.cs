using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SharpVision.Models;

/// <summary>
/// Reads and writes Keras-like sequential model definitions in YAML.
/// <code>
/// name: my_net                        # optional, default "custom"
/// input: {size: 150, channels: 3}     # size required; channels 1 or 3, default 3
/// layers:                             # in order; the last Dense is the classifier (head)
///   - Conv2D: {filters: 32, kernel_size: 3, activation: relu}
///   - MaxPooling2D: {pool_size: 2}
///   - Flatten: {}
///   - Dense: {units: 512, activation: relu}
///   - Dense: {units: 1, activation: sigmoid}
/// </code>
/// Layer types and keys (defaults in brackets; every layer also takes an optional <c>name</c>):
/// <list type="bullet">
/// <item><c>Conv2D</c>: filters, kernel_size, strides [1], padding valid|same [valid], activation [linear], use_bias [true]</item>
/// <item><c>MaxPooling2D</c>, <c>AveragePooling2D</c>: pool_size [2], strides [pool_size], padding [valid]</item>
/// <item><c>GlobalAveragePooling2D</c>, <c>Flatten</c>: no keys</item>
/// <item><c>Dense</c>: units, activation [linear], use_bias [true]</item>
/// <item><c>Dropout</c>: rate</item>
/// <item><c>BatchNormalization</c>: momentum [0.99, Keras meaning], epsilon [0.001]</item>
/// <item><c>Activation</c>: activation (relu, sigmoid, softmax, tanh, elu, leaky_relu, linear)</item>
/// </list>
/// A layer without keys may be written <c>- Flatten</c>, <c>- Flatten:</c> or <c>- Flatten: {}</c>.
/// A final sigmoid/softmax is recorded but the network returns logits.
/// </summary>
public static class ModelYaml
{
    private static readonly IReadOnlyDictionary<string, string[]> Keys = new Dictionary<string, string[]>
    {
        ["Conv2D"] = ["filters", "kernel_size", "strides", "padding", "activation", "use_bias", "name"],
        ["MaxPooling2D"] = ["pool_size", "strides", "padding", "name"],
        ["AveragePooling2D"] = ["pool_size", "strides", "padding", "name"],
        ["GlobalAveragePooling2D"] = ["name"],
        ["Flatten"] = ["name"],
        ["Dense"] = ["units", "activation", "use_bias", "name"],
        ["Dropout"] = ["rate", "name"],
        ["BatchNormalization"] = ["momentum", "epsilon", "name"],
        ["Activation"] = ["activation", "name"],
    };

    /// <summary>Layer type names accepted in YAML, sorted.</summary>
    public static IReadOnlyList<string> LayerTypes { get; } = Keys.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Reads a definition file; errors start with the path.</summary>
    public static ModelSpec Load(string path)
    {
        if (!File.Exists(path)) throw new ModelDefinitionException($"{path}: model definition file not found");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses a definition; <paramref name="source"/> (a path) prefixes error messages when given.</summary>
    public static ModelSpec Parse(string text, string? source = null)
    {
        string prefix = source is null ? "" : source + ": ";
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException e)
        {
            throw new ModelDefinitionException($"{prefix}invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}");
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ModelDefinitionException($"{prefix}the file must be a mapping with name, input and layers. Received: {(stream.Documents.Count == 0 ? "an empty file" : "something else")}");

        string name = "custom";
        int size = 0, channels = 3;
        var layers = ImmutableArray.CreateBuilder<LayerSpec>();
        bool sawInput = false, sawLayers = false;
        foreach (var (keyNode, value) in root.Children)
        {
            string key = Scalar(keyNode);
            var v = new Reader(prefix, "");
            switch (key)
            {
                case "name": name = v.Text(key, value); break;
                case "input":
                    sawInput = true;
                    if (value is not YamlMappingNode input)
                        throw new ModelDefinitionException($"{prefix}input must be a mapping like {{size: 150, channels: 3}}. Received: input={Show(value)}");
                    var iv = new Reader(prefix, "input.");
                    var keys = new HashSet<string>();
                    foreach (var (k, val) in input.Children)
                    {
                        string ik = Scalar(k);
                        keys.Add(ik);
                        switch (ik)
                        {
                            case "size": size = iv.Int(ik, val); break;
                            case "channels": channels = iv.Int(ik, val); break;
                            default: throw new ModelDefinitionException($"{prefix}input: unknown key '{ik}'; allowed: size, channels");
                        }
                    }
                    if (!keys.Contains("size")) throw new ModelDefinitionException($"{prefix}input.size is required (the square input side in pixels)");
                    break;
                case "layers":
                    sawLayers = true;
                    if (value is not YamlSequenceNode seq)
                        throw new ModelDefinitionException($"{prefix}layers must be a list of layers (\"- Conv2D: {{...}}\"). Received: layers={Show(value)}");
                    int i = 0;
                    foreach (var item in seq.Children) layers.Add(ParseLayer(prefix, i++, item));
                    break;
                default:
                    throw new ModelDefinitionException($"{prefix}unknown top-level key '{key}'; allowed: name, input, layers");
            }
        }
        if (!sawInput) throw new ModelDefinitionException($"{prefix}input is required, e.g. input: {{size: 150, channels: 3}}");
        if (!sawLayers) throw new ModelDefinitionException($"{prefix}layers is required (a list ending with a Dense layer)");
        if (channels is not (1 or 3)) throw new ModelDefinitionException($"{prefix}input.channels must be 1 or 3. Received: input.channels={channels}");
        return new ModelSpec(name, size, channels, layers.ToImmutable());
    }

    /// <summary>Writes a definition in the format <see cref="Parse"/> reads (defaults are left out).</summary>
    public static string ToYaml(ModelSpec spec)
    {
        var sb = new StringBuilder();
        sb.Append("name: ").Append(spec.Name).Append('\n');
        sb.Append("input: {size: ").Append(spec.InputSize).Append(", channels: ").Append(spec.Channels).Append("}\n");
        sb.Append("layers:\n");
        foreach (var layer in spec.Layers)
        {
            var kv = new List<string>();
            switch (layer)
            {
                case Conv2DSpec c:
                    kv.Add($"filters: {c.Filters}");
                    kv.Add($"kernel_size: {c.KernelSize}");
                    if (c.Strides != 1) kv.Add($"strides: {c.Strides}");
                    if (c.Padding != PaddingKind.Valid) kv.Add($"padding: {KerasNames.Of(c.Padding)}");
                    if (c.Activation != ActivationKind.Linear) kv.Add($"activation: {KerasNames.Of(c.Activation)}");
                    if (!c.UseBias) kv.Add("use_bias: false");
                    break;
                case MaxPooling2DSpec p: Pool(kv, p.PoolSize, p.Strides, p.Padding); break;
                case AveragePooling2DSpec p: Pool(kv, p.PoolSize, p.Strides, p.Padding); break;
                case DenseSpec d:
                    kv.Add($"units: {d.Units}");
                    if (d.Activation != ActivationKind.Linear) kv.Add($"activation: {KerasNames.Of(d.Activation)}");
                    if (!d.UseBias) kv.Add("use_bias: false");
                    break;
                case DropoutSpec d: kv.Add($"rate: {Num(d.Rate)}"); break;
                case BatchNormalizationSpec b:
                    if (b.Momentum != 0.99) kv.Add($"momentum: {Num(b.Momentum)}");
                    if (b.Epsilon != 1e-3) kv.Add($"epsilon: {Num(b.Epsilon)}");
                    break;
                case ActivationSpec a: kv.Add($"activation: {KerasNames.Of(a.Activation)}"); break;
            }
            if (layer.Name is not null) kv.Add($"name: {layer.Name}");
            sb.Append("  - ").Append(layer.TypeName).Append(": {").Append(string.Join(", ", kv)).Append("}\n");
        }
        return sb.ToString();

        static void Pool(List<string> kv, int size, int? strides, PaddingKind padding)
        {
            kv.Add($"pool_size: {size}");
            if (strides is { } s) kv.Add($"strides: {s}");
            if (padding != PaddingKind.Valid) kv.Add($"padding: {KerasNames.Of(padding)}");
        }
        static string Num(double d) => d.ToString("R", CultureInfo.InvariantCulture);
    }

    private static LayerSpec ParseLayer(string prefix, int index, YamlNode item)
    {
        string at = $"{prefix}layers[{index}]";
        string type;
        YamlNode? args;
        switch (item)
        {
            case YamlScalarNode s: type = s.Value ?? ""; args = null; break;
            case YamlMappingNode m when m.Children.Count == 1:
                (var k, args) = m.Children.First();
                type = Scalar(k);
                break;
            default:
                throw new ModelDefinitionException($"{at} must be one layer like \"- Conv2D: {{filters: 32, kernel_size: 3}}\". Received: {Show(item)}");
        }
        if (!Keys.TryGetValue(type, out var allowed))
            throw new ModelDefinitionException($"{at} layer type must be one of {string.Join(", ", LayerTypes)}. Received: {type}");
        var map = new Dictionary<string, YamlNode>();
        switch (args)
        {
            case null: break;
            case YamlScalarNode s when string.IsNullOrEmpty(s.Value) || s.Value == "~" || s.Value == "null": break;
            case YamlMappingNode m:
                foreach (var (k, v) in m.Children)
                {
                    string key = Scalar(k);
                    if (!allowed.Contains(key))
                        throw new ModelDefinitionException($"{at} ({type}): unknown key '{key}'; allowed: {string.Join(", ", allowed)}");
                    map[key] = v;
                }
                break;
            default:
                throw new ModelDefinitionException($"{at} ({type}): arguments must be a mapping like {{key: value}}. Received: {Show(args)}");
        }
        var r = new Reader($"{at} ({type}): ", "");
        int Req(string key) => map.TryGetValue(key, out var n) ? r.Int(key, n)
            : throw new ModelDefinitionException($"{at} ({type}): {key} is required");
        int IntOr(string key, int d) => map.TryGetValue(key, out var n) ? r.Int(key, n) : d;
        int? IntOrNull(string key) => map.TryGetValue(key, out var n) ? r.Int(key, n) : null;
        double DoubleOr(string key, double d) => map.TryGetValue(key, out var n) ? r.Double(key, n) : d;
        ActivationKind Act(string key, ActivationKind d) => map.TryGetValue(key, out var n) ? r.Activation(key, n) : d;
        PaddingKind Pad() => map.TryGetValue("padding", out var n) ? r.Padding("padding", n) : PaddingKind.Valid;
        bool Bias() => !map.TryGetValue("use_bias", out var n) || r.Bool("use_bias", n);

        LayerSpec spec = type switch
        {
            "Conv2D" => new Conv2DSpec(Req("filters"), Req("kernel_size"), IntOr("strides", 1), Pad(), Act("activation", ActivationKind.Linear), Bias()),
            "MaxPooling2D" => new MaxPooling2DSpec(IntOr("pool_size", 2), IntOrNull("strides"), Pad()),
            "AveragePooling2D" => new AveragePooling2DSpec(IntOr("pool_size", 2), IntOrNull("strides"), Pad()),
            "GlobalAveragePooling2D" => new GlobalAveragePooling2DSpec(),
            "Flatten" => new FlattenSpec(),
            "Dense" => new DenseSpec(Req("units"), Act("activation", ActivationKind.Linear), Bias()),
            "Dropout" => new DropoutSpec(map.ContainsKey("rate") ? DoubleOr("rate", 0) : throw new ModelDefinitionException($"{at} ({type}): rate is required")),
            "BatchNormalization" => new BatchNormalizationSpec(DoubleOr("momentum", 0.99), DoubleOr("epsilon", 1e-3)),
            "Activation" => new ActivationSpec(map.ContainsKey("activation") ? Act("activation", ActivationKind.Linear)
                : throw new ModelDefinitionException($"{at} ({type}): activation is required")),
            _ => throw new InvalidOperationException(type),
        };
        return map.TryGetValue("name", out var nameNode) ? spec with { Name = r.Text("name", nameNode) } : spec;
    }

    private static string Scalar(YamlNode node) => node is YamlScalarNode s ? s.Value ?? "" : Show(node);

    private static string Show(YamlNode node) => node switch
    {
        YamlScalarNode s => s.Value ?? "",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => node.ToString(),
    };

    // Typed reads that word errors as "<where><key> must be <what>. Received: <key>=<value>".
    private readonly record struct Reader(string Where, string KeyPrefix)
    {
        private ModelDefinitionException Error(string key, string expected, YamlNode node) =>
            new($"{Where}{KeyPrefix}{key} must be {expected}. Received: {KeyPrefix}{key}={Show(node)}");

        public string Text(string key, YamlNode node) =>
            node is YamlScalarNode { Value: { Length: > 0 } v } ? v : throw Error(key, "a non-empty text", node);

        public int Int(string key, YamlNode node) =>
            node is YamlScalarNode s && int.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
                ? v : throw Error(key, "an integer", node);

        public double Double(string key, YamlNode node) =>
            node is YamlScalarNode s && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                ? v : throw Error(key, "a number", node);

        public bool Bool(string key, YamlNode node) => node is YamlScalarNode s && s.Value is "true" or "True" or "false" or "False"
            ? s.Value is "true" or "True" : throw Error(key, "true or false", node);

        public ActivationKind Activation(string key, YamlNode node) =>
            node is YamlScalarNode s && KerasNames.ParseActivation(s.Value ?? "") is { } a
                ? a : throw Error(key, "one of " + string.Join(", ", KerasNames.Activations), node);

        public PaddingKind Padding(string key, YamlNode node) =>
            node is YamlScalarNode s && KerasNames.ParsePadding(s.Value ?? "") is { } p
                ? p : throw Error(key, "one of valid, same", node);
    }
}
