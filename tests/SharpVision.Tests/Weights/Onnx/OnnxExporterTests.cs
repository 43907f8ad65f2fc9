using Google.Protobuf;
using Onnx;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Tests.TestSupport;
using SharpVision.Weights;
using SharpVision.Weights.Onnx;
using TorchSharp;
using static SharpVision.Tests.Weights.Onnx.OnnxTestSupport;
using static TorchSharp.torch;

namespace SharpVision.Tests.Weights.Onnx;

public class OnnxExporterTests : IDisposable
{
    private readonly string _dir = ScratchDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RgbImage Picture(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var image = new RgbImage(width, height);
        rng.NextBytes(image.Pixels);
        return image;
    }

    [Fact]
    public void Metadata_round_trips_classes_architecture_spec_and_preprocessing_with_mean_image()
    {
        // Given a custom model and a config with unusual preprocessing (BGR, bicubic, a mean image)
        using var model = MiniCnn.Create(numClasses: 3, imageSize: 8);
        float[] meanImage = Enumerable.Range(0, 3 * 8 * 8).Select(i => i * 0.25f).ToArray();
        var pre = new Preprocessing { Size = 8, ChannelOrder = "BGR", Scale = 1f, Mean = [1f, 2f, 3f], Std = [4f, 5f, 6f], MeanImage = meanImage, Interpolation = Interpolation.Bicubic };
        string spec = ModelYaml.ToYaml(model.Spec);
        var config = new ModelConfig { Architecture = "custom", NumClasses = 3, Classes = ["cat", "dög", "say \"hi\""], Preprocessing = pre, Spec = spec };
        string path = Path.Combine(_dir, "meta.onnx");

        // When exported and its metadata read back
        OnnxExporter.Export(model, config, path);
        var info = OnnxModelInfo.Read(path);

        // Then everything comes back as written
        Assert.Equal("custom", info.Architecture);
        Assert.Equal("classification", info.Task);
        Assert.Equal(3, info.NumClasses);
        Assert.Equal(["cat", "dög", "say \"hi\""], info.Classes);
        Assert.Equal(spec, info.Spec);
        Assert.Equal(8, info.Preprocessing.Size);
        Assert.Equal("BGR", info.Preprocessing.ChannelOrder);
        Assert.Equal(1f, info.Preprocessing.Scale);
        Assert.Equal([1f, 2f, 3f], info.Preprocessing.Mean);
        Assert.Equal([4f, 5f, 6f], info.Preprocessing.Std);
        Assert.Equal(meanImage, info.Preprocessing.MeanImage);
        Assert.Equal(Interpolation.Bicubic, info.Preprocessing.Interpolation);
        Assert.Equal("true", info.Metadata[OnnxModelInfo.MeanImageKey]);
    }

    [Fact]
    public void Exported_graph_declares_opset_17_dynamic_batch_input_and_both_outputs()
    {
        using var model = MiniCnn.Create(numClasses: 4, imageSize: 16, channels: 1);
        string path = Path.Combine(_dir, "g.onnx");

        OnnxExporter.Export(model, Config(model), path);
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));

        Assert.Equal(17, proto.OpsetImport.Single(o => o.Domain == "").Version);
        var input = proto.Graph.Input.Single();
        Assert.Equal("input", input.Name);
        var dims = input.Type.TensorType.Shape.Dim;
        Assert.Equal("batch", dims[0].DimParam);
        Assert.Equal([1L, 16, 16], dims.Skip(1).Select(d => d.DimValue));
        Assert.Equal(["logits", "probabilities"], proto.Graph.Output.Select(o => o.Name));
        Assert.Equal("Softmax", proto.Graph.Node.Single(n => n.Output.Contains("probabilities")).OpType);
        // BatchNorm stays a node on the running statistics, named by state_dict key
        Assert.Contains(proto.Graph.Initializer, t => t.Name == "batch_normalization.running_var");
        Assert.Equal(6, proto.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
    }

    [Fact]
    public void Onnx_classifier_probabilities_equal_torchsharp_softmax_on_the_same_images()
    {
        // Given a minicnn with random BN statistics, exported with BGR ImageNet preprocessing, and images of
        // other sizes than the network's (so the resize step is exercised)
        using var model = MiniCnn.Create(numClasses: 5, imageSize: 24);
        Randomize(model, 21);
        var pre = Preprocessing.ImageNet(24) with { ChannelOrder = "BGR" };
        string path = Path.Combine(_dir, "c.onnx");
        OnnxExporter.Export(model, Config(model) with { Preprocessing = pre }, path);
        RgbImage[] images = [Picture(40, 30, 1), Picture(24, 24, 2), Picture(17, 50, 3)];

        // When the ONNX classifier predicts, and TorchSharp runs the same resize + Fill pipeline
        using var onnx = new OnnxClassifier(path);
        float[][] predicted = onnx.Predict(images);
        var input = new float[images.Length * 3 * 24 * 24];
        for (int i = 0; i < images.Length; i++)
            pre.Fill(Resizer.Resize(images[i], 24, 24, pre.Interpolation), input.AsSpan(i * 3 * 24 * 24, 3 * 24 * 24));
        float[][] expected = TorchProbabilities(model, input, [images.Length, 3, 24, 24]);

        // Then the probabilities agree, each row sums to 1, and the classes come from the metadata
        AssertClose(expected, predicted, "probabilities");
        Assert.All(predicted, p => Assert.Equal(1.0, p.Sum(), 5));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"class_{i}"), onnx.Classes);
        Assert.Equal("BGR", onnx.Preprocessing.ChannelOrder);
    }

    [Fact]
    public void Binary_model_gives_two_columns_negative_then_positive()
    {
        using var model = SmallCnn.Create(numClasses: 1, imageSize: 48);
        Randomize(model, 22);
        string path = Path.Combine(_dir, "b.onnx");
        OnnxExporter.Export(model, Config(model, ["cat", "dog"]), path);
        RgbImage[] images = [Picture(48, 48, 4), Picture(60, 40, 5)];

        using var onnx = new OnnxClassifier(path);
        float[][] probabilities = onnx.Predict(images);
        float[][] logits = onnx.PredictLogits(images);

        for (int i = 0; i < images.Length; i++)
        {
            float p = 1f / (1f + MathF.Exp(-logits[i][0]));
            Assert.Equal(2, probabilities[i].Length);
            Assert.Equal(p, probabilities[i][1], 6);
            Assert.Equal(1 - p, probabilities[i][0], 6);
        }
    }

    [Fact]
    public void Fixed_batch_export_still_predicts_any_number_of_images()
    {
        // Given the same model exported with a fixed batch of 2 and with a dynamic batch
        using var model = MiniCnn.Create(numClasses: 3, imageSize: 16);
        Randomize(model, 23);
        string fixedPath = Path.Combine(_dir, "fixed.onnx"), dynamicPath = Path.Combine(_dir, "dynamic.onnx");
        OnnxExporter.Export(model, Config(model), fixedPath, batch: 2);
        OnnxExporter.Export(model, Config(model), dynamicPath);
        RgbImage[] images = [Picture(16, 16, 6), Picture(16, 16, 7), Picture(16, 16, 8)];

        // When three images are predicted (the last chunk is padded to 2 rows)
        using var fixedBatch = new OnnxClassifier(fixedPath);
        using var dynamicBatch = new OnnxClassifier(dynamicPath);
        var a = fixedBatch.Predict(images);
        var b = dynamicBatch.Predict(images);

        // Then the fixed graph declares batch 2 and both give the same three rows
        var dim = ModelProto.Parser.ParseFrom(File.ReadAllBytes(fixedPath)).Graph.Input[0].Type.TensorType.Shape.Dim[0];
        Assert.Equal(2, dim.DimValue);
        Assert.Equal(3, a.Length);
        AssertClose(b, a, "probabilities");
    }

    [Fact]
    public void Unsupported_module_is_named_by_path_and_type()
    {
        // Given a ResNet whose layer1 holds a module the writer does not know
        using var model = ResNet.ResNet18(numClasses: 2, imageSize: 32);
        model.register_module("layer1", null!);
        model.register_module("layer1", nn.Sequential(("0", nn.GELU())));

        var e = Assert.Throws<OnnxExportException>(() => OnnxExporter.Export(model, Config(model), Path.Combine(_dir, "x.onnx")));

        Assert.Equal("cannot export module 'layer1.0' (GELU) to ONNX: no converter for this module type", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir, "x.onnx")));
    }

    [Fact]
    public void Unsupported_model_family_is_refused_with_its_type()
    {
        using var model = new TinyClassifier(2);

        var e = Assert.Throws<OnnxExportException>(() => OnnxExporter.Export(model, Config(model), Path.Combine(_dir, "t.onnx")));

        Assert.Contains("TinyClassifier", e.Message);
        Assert.Contains("SequentialModel, ResNet and Vgg", e.Message);
    }

    [Fact]
    public void Onnx_model_without_sharpvision_metadata_is_reported()
    {
        // Given a valid ONNX model written by someone else (no metadata)
        string path = Path.Combine(_dir, "foreign.onnx");
        var proto = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        proto.MetadataProps.Add(new StringStringEntryProto { Key = "author", Value = "someone" });
        File.WriteAllBytes(path, proto.ToByteArray());

        var e = Assert.Throws<ModelFileException>(() => OnnxModelInfo.Read(path));
        Assert.Contains("not exported by SharpVision", e.Message);
    }

    [Fact]
    public void Non_onnx_file_is_reported_as_such()
    {
        string path = Path.Combine(_dir, "text.onnx");
        File.WriteAllText(path, "hello world, not a protobuf");

        var e = Assert.Throws<ModelFileException>(() => OnnxModelInfo.Read(path));
        Assert.Contains("not an ONNX model", e.Message);
        Assert.Throws<ModelFileException>(() => new OnnxClassifier(Path.Combine(_dir, "missing.onnx")));
    }
}
