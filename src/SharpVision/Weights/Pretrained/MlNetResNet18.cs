using System.Globalization;
using SharpVision.Imaging;
using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Weights.Pretrained;

/// <summary>
/// The ImageNet-trained ResNet-18 that ML.NET ships in the NuGet package
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (a CNTK export, ONNX opset 8), rebuilt as a TorchSharp
/// <see cref="ResNet"/> named <c>resnet18-mlnet</c>: basic blocks [2, 2, 2, 3] (one more block in the last stage
/// than torchvision's resnet18), separate BatchNorm layers (so they can be fine-tuned), global average pooling to
/// 512 features, and a new head Linear(512, K). Its input is 224x224 BGR in 0..255 minus a per-pixel mean image
/// (no division by a std), read from the package's preprocessing model and stored in every model file.
/// <para>
/// At any other input side the mean image is replaced by its per-channel average (BGR 103.06, 115.90, 123.15,
/// Caffe's ImageNet means). The backbone is convolutional: what its first layer was trained to see removed is the
/// constant colour offset; the rest of the mean image is a smooth vignette of ImageNet's 224 px centre crops
/// (spatial sd 3.3-5.9 of 255, darker centre, brighter corners) that belongs to no position of a 320 px or
/// letterboxed frame. A per-channel offset is the same at every position and every size, needs no resized
/// table, and is what the yolov3-resnet18 detector subtracts at every size. Measured on the three test photos:
/// 320 px features are as close or closer to the exact 224 px features with the per-channel mean (cosine 0.904-0.952)
/// as with the mean image resized bilinearly to 320 (0.902-0.952); the two choices agree to cosine 0.9992-0.9996.
/// </para>
/// </summary>
public static class MlNetResNet18
{
    /// <summary>Registered model name.</summary>
    public const string Architecture = "resnet18-mlnet";

    /// <summary>Input side the weights and the mean image were made for (the default side).</summary>
    public const int InputSize = 224;

    private static readonly object Gate = new();
    private static Preprocessing? _preprocessing;

    /// <summary>
    /// The network for <paramref name="options"/> with a fresh backbone (see <see cref="LoadPretrained(ImageClassifier)"/>).
    /// Building needs no file; the mean image is read from the package when <c>Info</c> is first asked for.
    /// Any input side works; see <see cref="ImageNetPreprocessing(int)"/> for what changes away from 224.
    /// </summary>
    /// <exception cref="InvalidOptionException">A channel count other than 3.</exception>
    public static ResNet Create(ModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Channels != 3)
            throw new InvalidOptionException("channels", $"3 for {Architecture} (it was trained on colour images)",
                options.Channels.ToString(CultureInfo.InvariantCulture));
        int size = options.ImageSize;
        return ResNet.ResNet18MlNet(options.NumClasses, () => ImageNetPreprocessing(size));
    }

    /// <summary><see cref="Create"/> then <see cref="LoadPretrained(ImageClassifier)"/>: ImageNet backbone, fresh head of <paramref name="numClasses"/>.</summary>
    public static ResNet CreatePretrained(int numClasses)
    {
        var model = Create(new ModelOptions(numClasses, InputSize));
        LoadPretrained(model);
        return model;
    }

    /// <summary>
    /// The preprocessing the weights expect, read once from the package's <c>ResNetPreprocess.onnx</c>:
    /// ChannelOrder "BGR", Scale 1 (0..255), Std 1; at 224 px the package's MeanImage [3, 224, 224] in BGR order
    /// (Mean 0), at any other <paramref name="size"/> no mean image and Mean = its per-channel average.
    /// </summary>
    /// <exception cref="ModelFileException">The package's file is missing or not the expected graph.</exception>
    public static Preprocessing ImageNetPreprocessing(int size = InputSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Preprocessing exact;
        lock (Gate)
        {
            _preprocessing ??= ReadPreprocessing(MlNetPackage.Locate(MlNetPackage.PreprocessFile));
            exact = _preprocessing;
        }
        return size == exact.Size
            ? exact with { }
            : exact with { Size = size, Mean = exact.ChannelMean(), MeanImage = null };
    }

    /// <summary>Reads a preprocessing model laid out like the package's (Split, Concat as BGR, Sub mean image).</summary>
    public static Preprocessing ReadPreprocessing(string preprocessOnnxPath) => MlNetGraphReader.ReadPreprocessing(preprocessOnnxPath);

    /// <summary>Reads and maps the backbone weights of a network laid out like the package's ResNet18.onnx.</summary>
    /// <exception cref="ModelFileException">The graph is not the ResNet-18 layout we map (the message says where).</exception>
    public static MlNetBackbone ReadBackbone(string networkOnnxPath) => MlNetGraphReader.ReadBackbone(networkOnnxPath);

    /// <summary>Copies the package's ImageNet weights into <paramref name="model"/>'s backbone (the head is left as it is).</summary>
    /// <exception cref="ModelFileException">The package's file is missing, or the model's backbone does not match.</exception>
    public static void LoadPretrained(ImageClassifier model) => LoadPretrained(model, MlNetPackage.Locate(MlNetPackage.NetworkFile));

    /// <summary>
    /// Copies the weights of <paramref name="networkOnnxPath"/> into the backbone of <paramref name="model"/>,
    /// strictly: every backbone parameter and buffer (all but the head and BN's <c>num_batches_tracked</c>)
    /// must be present with the same shape, and no weight may be left over. The first offending key is named.
    /// </summary>
    public static void LoadPretrained(ImageClassifier model, string networkOnnxPath)
    {
        ArgumentNullException.ThrowIfNull(model);
        LoadBackbone(model, ReadBackbone(networkOnnxPath).Tensors, networkOnnxPath);
    }

    /// <summary>Strict copy of <paramref name="tensors"/> into the backbone of <paramref name="model"/> (see <see cref="LoadPretrained(ImageClassifier, string)"/>).</summary>
    public static void LoadBackbone(ImageClassifier model, IReadOnlyList<PretrainedTensor> tensors, string origin)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        var headPrefixes = HeadPrefixes(model);
        var target = model.state_dict();
        var backboneKeys = target.Keys
            .Where(k => !headPrefixes.Any(p => k.StartsWith(p + ".", StringComparison.Ordinal)))
            .Where(k => !k.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .ToList();
        var source = new Dictionary<string, PretrainedTensor>(StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!source.TryAdd(t.Key, t)) throw new ModelFileException($"{origin}: key '{t.Key}' appears twice.");

        foreach (string key in backboneKeys)
        {
            var expected = target[key].shape;
            if (!source.TryGetValue(key, out var t))
                throw new ModelFileException($"{origin}: the model's backbone key '{key}' (shape {Shape(expected)}) has no pretrained weight.");
            if (!t.Shape.SequenceEqual(expected))
                throw new ModelFileException($"{origin}: key '{key}' has shape {Shape(t.Shape)} in the pretrained weights but {Shape(expected)} in the model.");
        }
        var backbone = backboneKeys.ToHashSet(StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!backbone.Contains(t.Key))
                throw new ModelFileException($"{origin}: pretrained weight '{t.Key}' (shape {Shape(t.Shape)}) has no place in the model's backbone.");

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var t in tensors)
        {
            var destination = target[t.Key];
            destination.copy_(tensor(t.Values, t.Shape).to(destination.dtype));
        }
    }

    // state_dict prefixes of the head modules (e.g. "fc"), found by reference so that Info is not needed.
    private static List<string> HeadPrefixes(ImageClassifier model)
    {
        var head = model.HeadModules().ToHashSet(ReferenceEqualityComparer.Instance);
        return model.named_modules().Where(m => m.name.Length > 0 && head.Contains(m.module)).Select(m => m.name).ToList();
    }

    private static string Shape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
