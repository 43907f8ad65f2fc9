using SharpVision.Evaluation.Detection;
using SharpVision.Models;
using SharpVision.Tests.Data;
using SharpVision.Weights;
using Xunit;
using static TorchSharp.torch;

namespace SharpVision.Tests.Training.Detection;

public class DetectorModelTests
{
    private static readonly (float W, float H)[] Anchors = [(4, 4), (8, 8), (12, 12), (20, 20), (30, 30), (60, 60)];

    [Fact]
    public void Detector_model_file_round_trips_config_and_outputs()
    {
        using var dir = new TempDir();
        manual_seed(3);
        using var model = new YoloModel(YoloCfg.Tiny(2, 64, Anchors, .25), "yolov3-tiny-quarter");
        var config = YoloDetector.ConfigFor(model, "yolov3-tiny-quarter", ["a", "b"]);
        string path = Path.Combine(dir.Path, "det.svmodel");
        ModelFile.Save(path, model, config);

        using var loaded = YoloDetector.Load(path);
        model.eval();
        var x = rand(1, 3, 64, 64);
        using var _ = no_grad();
        Assert.Equal("detection", loaded.Config!.Task);
        Assert.Equal(["a", "b"], loaded.ClassNames);
        Assert.True(model.call(x).allclose(loaded.Model!.call(x)));
        Assert.Equal(model.AllAnchors, loaded.Model!.AllAnchors);
    }

    [Fact]
    public void Classification_model_file_still_loads_and_is_refused_as_a_detector()
    {
        using var dir = new TempDir();
        var classifier = ModelRegistry.Create("minicnn", new ModelOptions(3, 16));
        string path = Path.Combine(dir.Path, "c.svmodel");
        ModelFile.Save(path, classifier, new ModelConfig { Architecture = "minicnn", NumClasses = 3, Classes = ["x", "y", "z"], Preprocessing = new global::SharpVision.Imaging.Preprocessing { Size = 16 } });
        var (config, model) = ModelFile.Load(path);
        Assert.Equal("classification", config.Task);
        Assert.Null(config.Cfg);
        model.Dispose();
        var e = Assert.Throws<ModelFileException>(() => YoloDetector.Load(path));
        Assert.Contains("not a detector", e.Message);
    }

    [Fact]
    public void Built_in_yolov3_has_three_heads_and_darknet53_backbone_of_75_layers()
    {
        var cfg = DarknetConfig.ParseText(YoloCfg.Yolov3(80, 416, YoloCfg.Yolov3Anchors), "yolov3");
        // Darknet's yolov3.cfg: 107 layers, [yolo] at 82, 94, 106, routes to 61 and 36.
        Assert.Equal(107, cfg.Layers.Count);
        Assert.Equal([82, 94, 106], Enumerable.Range(0, cfg.Layers.Count).Where(i => cfg.Layers[i].Type == "yolo"));
        Assert.Equal("-1,61", cfg.Layers[86].Str("layers", ""));
        Assert.Equal("-1,36", cfg.Layers[98].Str("layers", ""));
        // The same layout as Debian's darknet cfg, when it is installed.
        const string debian = "/usr/share/darknet/cfg/yolov3.cfg";
        if (File.Exists(debian))
        {
            var theirs = DarknetConfig.Parse(debian);
            Assert.Equal(theirs.Layers.Select(l => l.Type), cfg.Layers.Select(l => l.Type));
            Assert.Equal(theirs.Layers.Select(l => l.Str("filters", "")), cfg.Layers.Select(l => l.Str("filters", "")));
        }
    }

    [Fact]
    public void Darknet_backbone_weights_fill_the_leading_layers_only()
    {
        using var dir = new TempDir();
        manual_seed(4);
        // Given a Darknet weights file of a tiny net's first 13 layers (its backbone, like yolov3-tiny.conv.15).
        using var source = new YoloModel(YoloCfg.Tiny(5, 64, Anchors, .25), "src");
        using var prefix = new DarknetNetwork(source.Network.Config, source.BackboneLayerCount());
        using (no_grad())
            foreach (var (k, v) in prefix.state_dict()) v.copy_(source.Network.state_dict()[k]);
        string weights = Path.Combine(dir.Path, "tiny.conv.weights");
        DarknetWeights.Write(weights, prefix);

        // When a 2-class detector loads it
        using var target = new YoloModel(YoloCfg.Tiny(2, 64, Anchors, .25), "dst");
        var headBefore = target.Network.ConvolutionalLayers[^1].Weights.clone();
        int loaded = global::SharpVision.Api.Detector.LoadDarknetBackbone(target, weights);

        // Then the backbone convolutions equal the file's and the class-specific head is untouched
        Assert.Equal(13, loaded);
        Assert.True(target.Network.ConvolutionalLayers[0].Weights.equal(source.Network.ConvolutionalLayers[0].Weights).all().item<bool>());
        Assert.True(target.Network.ConvolutionalLayers[6].RollingMean!.equal(source.Network.ConvolutionalLayers[6].RollingMean!).all().item<bool>());
        Assert.True(target.Network.ConvolutionalLayers[^1].Weights.equal(headBefore).all().item<bool>());
    }

    [Fact]
    public void Yolov3_on_resnet18_gives_two_scales_and_rebuilds_from_its_text()
    {
        manual_seed(5);
        using var model = new YoloBackboneModel("resnet18", ModelRegistry.Create("resnet18", new ModelOptions(1000, 64)), 3, 64, Anchors);
        model.eval();
        using var _ = no_grad();
        var x = rand(2, 3, 64, 64);
        var y = model.call(x);
        Assert.Equal(new long[] { 2, 3 * 4 + 3 * 16, 8 }, y.shape);
        using var rebuilt = YoloBackboneModel.FromText(model.CfgText);
        Assert.Equal(model.state_dict().Keys.Order(), rebuilt.state_dict().Keys.Order());
        Assert.Equal(model.BackboneParameters().Sum(p => p.numel()), rebuilt.BackboneParameters().Sum(p => p.numel()));
    }
}
