using System.IO.Compression;
using System.Text.Json;
using SharpVision.Models;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpVision.Weights;

/// <summary>
/// SharpVision's self-describing model file (<c>.svmodel</c>), shaped like Keras 3's <c>.keras</c>: a zip holding
/// <c>config.json</c> (architecture and width, classes, preprocessing) and <c>model.safetensors</c> (weights, plus the
/// preprocessing mean image when there is one). Loading parses JSON and raw tensors only: no code from the
/// file is ever executed. Saving is atomic (temporary file, then rename).
/// </summary>
public static class ModelFile
{
    public const string Extension = ".svmodel";
    private const string ConfigEntry = "config.json";
    private const string WeightsEntry = "model.safetensors";
    private const string MeanImageKey = "__preprocessing.mean_image";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    /// <summary>Writes the model atomically (temporary file, then rename).</summary>
    /// <param name="path">Target .svmodel path.</param>
    /// <param name="model">Its state_dict becomes model.safetensors.</param>
    /// <param name="config">
    /// Architecture, classes and preprocessing. Its width is the network's own (<see cref="ModelInfo.Width"/>): every
    /// caller's file then records it, and a config that names another width is refused.
    /// </param>
    /// <param name="extras">
    /// More entries stored beside the model (a resumable checkpoint keeps its optimizer and trainer state here),
    /// written in the same atomic replace so weights and state always match.
    /// </param>
    public static void Save(string path, nn.Module model, ModelConfig config, IReadOnlyDictionary<string, byte[]>? extras = null)
    {
        if (model is ImageClassifier { Info.Width: { } width })
        {
            if (config.Width is { } stated && stated != width)
                throw new ArgumentException($"the config says width {stated}; the {config.Architecture} network is {width} wide", nameof(config));
            config = config with { Width = width };
        }
        AtomicFile.Write(path, tmp => Write(tmp, model, config, extras));
    }

    private static void Write(string tmp, nn.Module model, ModelConfig config, IReadOnlyDictionary<string, byte[]>? extras)
    {
        using var zip = ZipFile.Open(tmp, ZipArchiveMode.Create);
        foreach (var (name, bytes) in extras ?? new Dictionary<string, byte[]>())
        {
            if (name is ConfigEntry or WeightsEntry)
                throw new ArgumentException($"'{name}' is reserved in a model file", nameof(extras));
            using var e = zip.CreateEntry(name).Open();
            e.Write(bytes);
        }
        var jsonConfig = config with { Preprocessing = config.Preprocessing with { MeanImage = null } };
        using (var s = zip.CreateEntry(ConfigEntry).Open())
            JsonSerializer.Serialize(s, jsonConfig, Json);

        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (key, t) in model.state_dict())
            tensors[key] = t.detach().cpu().contiguous();
        if (config.Preprocessing.MeanImage is { } meanImage)
            tensors[MeanImageKey] = tensor(meanImage);
        using var w = zip.CreateEntry(WeightsEntry, CompressionLevel.NoCompression).Open();
        Safetensors.SaveStateDict(w, tensors, leaveOpen: true);
    }

    /// <summary>An extra entry saved with <see cref="Save"/>, or null when the file has none of that name.</summary>
    public static byte[]? ReadEntry(string path, string name)
    {
        using var zip = OpenZip(path);
        var entry = zip.GetEntry(name);
        if (entry is null) return null;
        using var s = entry.Open();
        using var buffer = new MemoryStream();
        s.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>Reads the config only (cheap: no weights).</summary>
    public static ModelConfig ReadConfig(string path)
    {
        using var zip = OpenZip(path);
        return ReadConfig(zip, path);
    }

    /// <summary>Loads a model file, rebuilding a registered architecture or the stored custom layer list.</summary>
    public static (ModelConfig Config, ImageClassifier Model) Load(string path) => Load(path, Build);

    /// <summary>The untrained network a config describes (registered name, or the custom YAML spec).</summary>
    public static ImageClassifier Build(ModelConfig config)
    {
        var pre = config.Preprocessing;
        if (config.Task == "detection")
            throw new ModelFileException($"a {config.Architecture} detector, not a classifier: use 'sharpvision detect predict' or 'sharpvision detect evaluate' (and 'export' as pt or safetensors).");
        if (config.Architecture == "custom")
        {
            if (config.Spec is null)
                throw new ModelFileException("the model file's config says architecture 'custom' but holds no layer spec.");
            return new SequentialModel(ModelYaml.Parse(config.Spec, "model file"), config.NumClasses, "custom", pre);
        }
        if (!ModelRegistry.Contains(config.Architecture))
            throw new ModelFileException($"unknown architecture '{config.Architecture}' (known: {string.Join(", ", ModelRegistry.Names)}).");
        return ModelRegistry.Create(config.Architecture, new ModelOptions(config.NumClasses, pre.Size, pre.Channels, config.Width));
    }

    /// <summary>
    /// Rebuilds the network with <paramref name="build"/> from the stored config and loads the weights strictly.
    /// </summary>
    public static (ModelConfig Config, ImageClassifier Model) Load(string path, Func<ModelConfig, ImageClassifier> build) =>
        LoadModule(path, build);

    /// <summary>Like <see cref="Load(string, Func{ModelConfig, ImageClassifier})"/> for any module type (detectors).</summary>
    public static (ModelConfig Config, TModel Model) LoadModule<TModel>(string path, Func<ModelConfig, TModel> build) where TModel : nn.Module
    {
        using var zip = OpenZip(path);
        var config = ReadConfig(zip, path);
        var entry = zip.GetEntry(WeightsEntry) ?? throw new ModelFileException($"{path}: no {WeightsEntry} inside; the file is not a complete SharpVision model.");
        Dictionary<string, Tensor> tensors;
        try
        {
            using var s = entry.Open();
            using var buffer = new MemoryStream();
            s.CopyTo(buffer);
            buffer.Position = 0;
            tensors = Safetensors.LoadStateDict(buffer, leaveOpen: false);
        }
        catch (Exception e) when (e is not ModelFileException and not TypeInitializationException) // libtorch missing is not the file's fault
        {
            throw new ModelFileException($"{path}: the weights are corrupt or truncated ({e.Message}).", e);
        }
        try
        {
            if (tensors.Remove(MeanImageKey, out var meanImage))
            {
                config = config with { Preprocessing = config.Preprocessing with { MeanImage = meanImage.data<float>().ToArray() } };
                meanImage.Dispose();
            }
            TModel model;
            try
            {
                model = build(config);
            }
            catch (SharpVisionException e) when (e is not ModelFileException)
            {
                // The stored config describes a network that cannot be built (edited, or from another version).
                throw new ModelFileException($"{path}: its config cannot be built as a {config.Architecture} ({e.Message}).", e);
            }
            catch (ModelFileException e) when (!e.Message.StartsWith(path, StringComparison.Ordinal))
            {
                // The builder refused the config (unknown architecture, a detector where a classifier is wanted): name the file.
                throw new ModelFileException($"{path}: {e.Message}", e);
            }
            try
            {
                StateDicts.LoadStrict(model, tensors, path);
            }
            catch
            {
                model.Dispose();
                throw;
            }
            return (config, model);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    private static ZipArchive OpenZip(string path)
    {
        if (!File.Exists(path))
            throw new ModelFileException($"{path}: model file not found.");
        try
        {
            return ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFileException($"{path}: not a SharpVision model file (expected a {Extension} zip; it is corrupt or truncated).", e);
        }
    }

    private static ModelConfig ReadConfig(ZipArchive zip, string path)
    {
        var entry = zip.GetEntry(ConfigEntry) ?? throw new ModelFileException($"{path}: no {ConfigEntry} inside; the file is not a SharpVision model.");
        try
        {
            using var s = entry.Open();
            var config = JsonSerializer.Deserialize<ModelConfig>(s, Json) ?? throw new ModelFileException($"{path}: empty {ConfigEntry}.");
            if (config.Format != ModelConfig.FormatName)
                throw new ModelFileException($"{path}: format '{config.Format}' is not '{ModelConfig.FormatName}'.");
            // Files recorded no width while minicnn had only 16/32/64; read as that width, they load and predict as
            // before minicnn was widened (issue 11). Every reader (load, --weights, resume) sees the file's real width.
            if (config is { Task: "classification", Width: null } && config.Architecture == MiniCnn.Name)
                config = config with { Width = MiniCnn.UnrecordedWidth };
            return config;
        }
        catch (JsonException e)
        {
            throw new ModelFileException($"{path}: {ConfigEntry} is not valid ({e.Message}).", e);
        }
    }
}
