using System.Runtime.CompilerServices;
using Microsoft.ML.OnnxRuntime;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Weights;
using SharpVision.Weights.Pretrained;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpVision.Tests.Weights.Pretrained;

/// <summary>The ML.NET package's files, its backbone read once, and the committed real photos at 224x224.</summary>
public sealed class MlNetFixture
{
    public MlNetFixture()
    {
        NetworkPath = MlNetPackage.Locate(MlNetPackage.NetworkFile);
        PreprocessPath = MlNetPackage.Locate(MlNetPackage.PreprocessFile);
        Backbone = MlNetResNet18.ReadBackbone(NetworkPath);
        Photos = PhotoNames.Select(n => Resizer.Resize(ImageDecoder.Decode(Path.Combine(PhotoFolder(), n)), 224, 224, Interpolation.Bilinear)).ToList();
    }

    public static readonly string[] PhotoNames = ["dog.jpg", "eagle.jpg", "horses.jpg"];

    public string NetworkPath { get; }
    public string PreprocessPath { get; }
    public MlNetBackbone Backbone { get; }
    public IReadOnlyList<RgbImage> Photos { get; }

    // The photos live in the source tree (tests/SharpVision.Tests/TestData/photos), found from this file's path.
    public static string PhotoFolder([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "TestData", "photos"));
}

public class MlNetResNet18Tests(MlNetFixture fixture, ITestOutputHelper output) : IClassFixture<MlNetFixture>
{
    private const int Side = 224;

    // [B, 3, 224, 224] network input made by our Preprocessing from the model's Info (BGR, 0..255, minus mean image).
    private static Tensor OurInput(IReadOnlyList<RgbImage> photos, Preprocessing pre)
    {
        int n = 3 * Side * Side;
        var data = new float[photos.Count * n];
        for (int b = 0; b < photos.Count; b++) pre.Fill(photos[b], data.AsSpan(b * n, n));
        return tensor(data, [photos.Count, 3, Side, Side]);
    }

    // ONNX Runtime on the package's two models: planar RGB 0..255 [1, 3, 224, 224] -> preprocess -> network -> 512.
    private static float[] OnnxFeatures(InferenceSession prep, InferenceSession net, RgbImage photo)
    {
        int plane = Side * Side;
        var rgb = new float[3 * plane];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < plane; i++) rgb[c * plane + i] = photo.Pixels[i * 3 + c];
        using var options = new RunOptions();
        using var input = OrtValue.CreateTensorValueFromMemory(rgb, [1, 3, Side, Side]);
        using var prepared = prep.Run(options, prep.InputNames, [input], prep.OutputNames);
        using var features = net.Run(options, net.InputNames, [prepared[0]], net.OutputNames); // [1, 512, 1, 1]
        return features[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void Backbone_features_equal_onnx_runtime_on_real_photos()
    {
        // Given the pretrained resnet18-mlnet and ONNX Runtime sessions on the package's original models
        using var model = MlNetResNet18.Create(new ModelOptions(2, Side));
        MlNetResNet18.LoadBackbone(model, fixture.Backbone.Tensors, fixture.NetworkPath);
        model.eval();
        using var prep = new InferenceSession(fixture.PreprocessPath);
        using var net = new InferenceSession(fixture.NetworkPath);

        // When both compute the 512 features of the same resized real photos
        float[] ours;
        using (no_grad())
        using (var x = OurInput(fixture.Photos, model.Info.Preprocessing))
        using (var f = model.ForwardFeatures(x)) // [3, 512]
        {
            Assert.Equal(new long[] { fixture.Photos.Count, 512 }, f.shape);
            ours = f.data<float>().ToArray();
        }
        var reference = fixture.Photos.Select(p => OnnxFeatures(prep, net, p)).ToList();

        // Then every feature is within 1e-4 * max(1, |onnx|) of ONNX Runtime's
        double maxAbs = 0, worstRatio = 0;
        for (int b = 0; b < reference.Count; b++)
        {
            Assert.Equal(512, reference[b].Length);
            for (int j = 0; j < 512; j++)
            {
                double a = ours[b * 512 + j], r = reference[b][j];
                double diff = Math.Abs(a - r), tolerance = 1e-4 * Math.Max(1, Math.Abs(r));
                maxAbs = Math.Max(maxAbs, diff);
                worstRatio = Math.Max(worstRatio, diff / tolerance);
                Assert.True(diff <= tolerance, $"{MlNetFixture.PhotoNames[b]} feature {j}: ours {a}, onnx {r}");
            }
        }
        output.WriteLine($"largest |ours - onnx| = {maxAbs:E3} (worst diff/tolerance = {worstRatio:F4}); " +
            $"feature ranges: {string.Join(", ", reference.Select(f => $"{f.Min():F3}..{f.Max():F3}"))}");
        // The features carry the photo: different photos give clearly different vectors.
        double apart = reference[0].Zip(reference[1], (p, q) => Math.Abs(p - q)).Max();
        Assert.True(apart > 0.5, $"dog and eagle features differ by at most {apart}");
    }

    [Fact]
    public void Graph_reads_as_resnet18_with_three_blocks_in_the_last_stage()
    {
        // Given the package's network, read by structure (fixture)
        var backbone = fixture.Backbone;

        // Then stages, epsilon, input size and every initializer are accounted for under torchvision names
        Assert.Equal([2, 2, 2, 3], backbone.Blocks);
        Assert.Equal(1e-5f, backbone.Epsilon);
        Assert.Equal(224, backbone.InputSize);
        Assert.Equal(110, backbone.Tensors.Count); // 22 convs + 22 BNs x 4
        Assert.Equal("conv1.weight", backbone.Tensors[0].Key);
        Assert.Equal(new long[] { 64, 3, 7, 7 }, backbone.Tensors[0].Shape);
        var ds = backbone.Tensors.Single(t => t.Key == "layer4.0.downsample.0.weight");
        Assert.Equal(new long[] { 512, 256, 1, 1 }, ds.Shape);
        Assert.Contains(backbone.Tensors, t => t.Key == "layer4.2.bn2.running_var" && t.Values.All(v => v > 0));
    }

    [Fact]
    public void Preprocessing_follows_the_weights_BGR_0_to_255_minus_mean_image()
    {
        // Given the registered model
        using var model = ModelRegistry.Create(MlNetResNet18.Architecture, new ModelOptions(2, 0));

        // When asked for its preprocessing
        var pre = model.Info.Preprocessing;

        // Then it is 224, BGR, unscaled, no std, with a [3, 224, 224] mean image whose channel means are B, G, R
        Assert.Equal((224, "BGR", 1f), (pre.Size, pre.ChannelOrder, pre.Scale));
        Assert.Equal([0f, 0f, 0f], pre.Mean);
        Assert.Equal([1f, 1f, 1f], pre.Std);
        Assert.NotNull(pre.MeanImage);
        Assert.Equal(3 * 224 * 224, pre.MeanImage.Length);
        double[] channelMeans = Enumerable.Range(0, 3).Select(c => pre.MeanImage.Skip(c * 224 * 224).Take(224 * 224).Average(v => (double)v)).ToArray();
        output.WriteLine($"mean image channel means (B, G, R): {string.Join(", ", channelMeans.Select(m => m.ToString("F2")))}");
        Assert.Equal(103.06, channelMeans[0], 0.01);
        Assert.Equal(115.90, channelMeans[1], 0.01);
        Assert.Equal(123.15, channelMeans[2], 0.01);
        Assert.Equal("resnet18-mlnet", model.Info.Architecture);
    }

    [Fact]
    public void Two_class_head_on_the_pretrained_backbone_gives_B_by_2_and_is_left_untouched()
    {
        // Given a 2-class resnet18-mlnet and its freshly initialised head
        using var model = MlNetResNet18.Create(new ModelOptions(2, Side));
        using var headBefore = model.state_dict()["fc.weight"].clone();

        // When the ImageNet backbone is loaded and two photos go through
        MlNetResNet18.LoadBackbone(model, fixture.Backbone.Tensors, fixture.NetworkPath);
        model.eval();
        using var noGrad = no_grad();
        using var x = OurInput(fixture.Photos.Take(2).ToList(), model.Info.Preprocessing);
        using var logits = model.call(x);

        // Then the logits are [2, 2], the head kept its weights and the backbone holds the file's
        Assert.Equal(new long[] { 2, 2 }, logits.shape);
        Assert.False(logits.isnan().any().item<bool>());
        Assert.True(model.state_dict()["fc.weight"].eq(headBefore).all().item<bool>());
        var conv1 = fixture.Backbone.Tensors[0];
        Assert.Equal(conv1.Values, model.state_dict()["conv1.weight"].data<float>().ToArray());
    }

    [Fact]
    public void Loading_into_torchvision_resnet18_names_the_first_weight_without_a_place()
    {
        // Given torchvision's resnet18, which has 2 blocks in layer4, not 3
        using var model = ResNet.ResNet18(2);

        // When the ML.NET weights are loaded into it
        var e = Assert.Throws<ModelFileException>(() => MlNetResNet18.LoadBackbone(model, fixture.Backbone.Tensors, "ResNet18.onnx"));

        // Then the first extra weight is named
        Assert.Equal("ResNet18.onnx: pretrained weight 'layer4.2.conv1.weight' (shape [512, 512, 3, 3]) has no place in the model's backbone.", e.Message);
    }

    [Fact]
    public void Loading_into_a_grayscale_network_names_the_first_key_with_both_shapes()
    {
        // Given the same layout built for 1 input channel
        using var model = new ResNet("gray", ResNetBlockKind.Basic, [2, 2, 2, 3], numClasses: 2, channels: 1);

        // When the ML.NET weights are loaded into it
        var e = Assert.Throws<ModelFileException>(() => MlNetResNet18.LoadBackbone(model, fixture.Backbone.Tensors, "ResNet18.onnx"));

        // Then the stem conv is named with both shapes
        Assert.Equal("ResNet18.onnx: key 'conv1.weight' has shape [64, 3, 7, 7] in the pretrained weights but [64, 1, 7, 7] in the model.", e.Message);
    }

    [Fact]
    public void Missing_package_file_says_where_it_looked_and_which_package_brings_it()
    {
        // Given a folder without the package's files
        string empty = Directory.CreateTempSubdirectory("sv-mlnet-").FullName;
        try
        {
            // When the network is looked for there
            var e = Assert.Throws<ModelFileException>(() => MlNetPackage.Locate(MlNetPackage.NetworkFile, [empty]));

            // Then the message names the path and the NuGet package
            Assert.Contains(Path.Combine(empty, "ResNet18Onnx", "ResNet18.onnx"), e.Message);
            Assert.Contains("NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1", e.Message);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Fact]
    public void Registered_network_has_resnet18_plus_one_basic_block_of_parameters_and_takes_any_side()
    {
        // Given the registered name with 1000 classes
        using var model = ModelRegistry.Create(MlNetResNet18.Architecture, new ModelOptions(1000, 0));

        // Then it counts torchvision resnet18's 11,689,512 plus one 512-wide basic block (2 convs 3x3 + 2 BNs)
        long count = model.parameters().Sum(p => p.numel());
        Assert.Equal(11_689_512L + 2 * 512 * 512 * 9 + 2 * 2 * 512, count);
        Assert.Equal(512, model.NumFeatures);

        // And at 224 it subtracts the package's mean image; at another side, the mean image's per-channel average
        var exact = model.Info.Preprocessing;
        Assert.Equal((224, 3 * 224 * 224), (exact.Size, exact.MeanImage!.Length));
        using var at160 = ModelRegistry.Create(MlNetResNet18.Architecture, new ModelOptions(2, 160));
        var pre = at160.Info.Preprocessing;
        Assert.Equal((160, "BGR", 1f), (pre.Size, pre.ChannelOrder, pre.Scale));
        Assert.Null(pre.MeanImage);
        Assert.Equal(exact.ChannelMean(), pre.Mean);
        Assert.Equal([103.06f, 115.90f, 123.15f], pre.Mean.Select(m => MathF.Round(m, 2)));
    }

    [Fact]
    public void Pretrained_imagenet_selects_resnet18_mlnet_and_rejects_other_sources()
    {
        // Given --model resnet18 (or resnet18-mlnet) with --pretrained imagenet, the ML.NET network is chosen
        Assert.Equal("resnet18-mlnet", PretrainedWeights.ArchitectureFor("resnet18", "imagenet"));
        Assert.Equal("resnet18-mlnet", PretrainedWeights.ArchitectureFor("resnet18-mlnet", "imagenet"));

        // When the source or the model has no such weights, Then the option is named with what is allowed
        var source = Assert.Throws<InvalidOptionException>(() => PretrainedWeights.ArchitectureFor("resnet18", "coco"));
        Assert.Equal("PretrainedWeights.Pretrained must be one of imagenet, or a PyTorch/safetensors state dict (.pth, .pt, .bin, .safetensors). Received: PretrainedWeights.Pretrained=coco", source.Message);
        var model = Assert.Throws<InvalidOptionException>(() => PretrainedWeights.ArchitectureFor("vgg16", "imagenet"));
        Assert.Equal("PretrainedWeights.Model must be resnet18 or resnet18-mlnet with PretrainedWeights.Pretrained imagenet. Received: PretrainedWeights.Model=vgg16", model.Message);
    }

    [Fact]
    public void Model_file_keeps_the_mean_image_and_the_pretrained_weights()
    {
        // Given a pretrained 2-class model saved with its own preprocessing
        string dir = Directory.CreateTempSubdirectory("sv-mlnet-file-").FullName;
        try
        {
            using var model = MlNetResNet18.Create(new ModelOptions(2, Side));
            PretrainedWeights.Load(PretrainedWeights.ImageNet, model);
            var pre = model.Info.Preprocessing;
            string path = Path.Combine(dir, "m.svmodel");
            ModelFile.Save(path, model, new ModelConfig { Architecture = model.Info.Architecture, NumClasses = 2, Classes = ["a", "b"], Preprocessing = pre });

            // When it is loaded back
            var (config, loaded) = ModelFile.Load(path);
            using var _ = loaded;

            // Then the preprocessing (mean image included) and the weights come back
            Assert.Equal("BGR", config.Preprocessing.ChannelOrder);
            Assert.Equal(pre.MeanImage, config.Preprocessing.MeanImage);
            Assert.True(loaded.state_dict()["layer4.2.conv2.weight"].eq(model.state_dict()["layer4.2.conv2.weight"]).all().item<bool>());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
