using System.Text.Json;
using SharpVision.Evaluation.Detection;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Tests.Data;
using SharpVision.Weights;
using static TorchSharp.torch;

namespace SharpVision.Tests.Models.Darknet;

public sealed class DarknetCfgTests
{
    [DarknetFact]
    public void Yolov3_tiny_cfg_builds_24_layers_with_13x13_and_26x26_heads()
    {
        // Given Debian's yolov3-tiny.cfg (416 x 416)
        using var net = DarknetNetwork.FromFile(DarknetPeer.Cfg("yolov3-tiny"));

        // When it runs on one image
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var heads = net.call(zeros(1, 3, 416, 416));

        // Then darknet's 24 layers give two heads of 3*(5+80) channels, 13x13 then 26x26
        Assert.Equal(24, net.Layers.Count);
        Assert.Equal(13, net.ConvolutionalLayers.Count);
        Assert.Equal([new long[] { 1, 255, 13, 13 }, [1, 255, 26, 26]], heads.Select(h => h.shape).ToArray());
        // the size-2 stride-1 maxpool (layer 11) keeps 13x13, as in darknet's printout
        Assert.Equal((512, 13, 13), net.Layers[11].OutShape);
    }

    [DarknetFact]
    public void Yolov3_cfg_builds_107_layers_with_three_heads()
    {
        // Debian's yolov3.cfg is set to 608 x 608; at 416 the heads are 13, 26 and 52
        string text = File.ReadAllText(DarknetPeer.Cfg("yolov3"));
        using var net = DarknetNetwork.FromFile(DarknetPeer.Cfg("yolov3"));
        using var at416 = new DarknetNetwork(DarknetConfig.ParseText(text.Replace("width=608", "width=416").Replace("height=608", "height=416")));

        Assert.Equal(107, net.Layers.Count);
        Assert.Equal(75, net.ConvolutionalLayers.Count);
        Assert.Equal([(255, 19, 19), (255, 38, 38), (255, 76, 76)], net.YoloLayers.Select(y => y.OutShape).ToArray());
        Assert.Equal([(255, 13, 13), (255, 26, 26), (255, 52, 52)], at416.YoloLayers.Select(y => y.OutShape).ToArray());
        Assert.Equal(new[] { (116f, 90f), (156f, 198f), (373f, 326f) }, net.YoloLayers[0].Anchors);
        // 61,576,342 parameters in yolov3.weights' 248,007,048 bytes after the 20-byte header
        Assert.Equal(248_007_048L - 20, DarknetWeights.PayloadBytes(net));
    }

    [DarknetFact]
    public void Darknet53_backbone_stops_at_the_last_convolution_before_the_classifier()
    {
        var cfg = DarknetConfig.Parse(DarknetPeer.Cfg("darknet53"));
        using var backbone = DarknetNetwork.Backbone(cfg);

        // The classifier cfg has 52 convolutions + avgpool + 1000-way conv + softmax; the backbone keeps the 52
        Assert.Equal(52, backbone.ConvolutionalLayers.Count);
        Assert.IsType<DarknetShortcut>(backbone.Layers[^1]);
        Assert.Equal((1024, cfg.Height / 32, cfg.Width / 32), backbone.Layers[^1].OutShape);
        Assert.Equal("avgpool", cfg.Layers[backbone.Layers.Count].Type);
    }

    [Fact]
    public void Unknown_layer_type_is_refused_with_its_line()
    {
        var cfg = DarknetConfig.ParseText("[net]\nwidth=8\nheight=8\n\n[lstm]\nsize=3\n", "bad");
        var e = Assert.Throws<ModelDefinitionException>(() => new DarknetNetwork(cfg));
        Assert.StartsWith("[lstm] at line 5: unsupported layer type", e.Message);
    }

    [Fact]
    public void Route_to_a_later_layer_is_refused()
    {
        var cfg = DarknetConfig.ParseText("[net]\nwidth=8\nheight=8\n[route]\nlayers=2\n", "bad");
        var e = Assert.Throws<ModelDefinitionException>(() => new DarknetNetwork(cfg));
        Assert.Contains("layers must name an earlier layer", e.Message);
    }
}

public sealed class DarknetArithmeticTests
{
    private static DarknetNetwork OneConv(string bn, string activation) => new(DarknetConfig.ParseText(
        $"[net]\nwidth=3\nheight=1\nchannels=1\n[convolutional]\n{bn}filters=1\nsize=1\nstride=1\npad=1\nactivation={activation}\n"));

    [Fact]
    public void Batchnorm_divides_by_sqrt_variance_plus_1e6_not_sqrt_of_variance_plus_eps()
    {
        // Given a 1x1 conv (weight 1) with BN mean 0.5, variance 0, scale 2, bias 0.25: darknet's partial writes var 0
        using var net = OneConv("batch_normalize=1\n", "linear");
        var conv = net.ConvolutionalLayers[0];
        using (no_grad())
        {
            conv.Weights.fill_(1);
            conv.RollingMean!.fill_(0.5);
            conv.RollingVariance!.fill_(0);
            conv.Scales!.fill_(2);
            conv.Biases.fill_(0.25);
        }

        // When x = 1 goes through in inference mode (training mode normalises with batch statistics)
        net.eval();
        using var y = net.call(tensor(new float[] { 1, 0.5f, 0.5000001f }, [1, 1, 1, 3]))[0];

        // Then y = (1 - 0.5) / (0 + 1e-6) * 2 + 0.25 = 1e6 + 0.25 (PyTorch's eps 1e-5 would give ~316)
        var v = y.data<float>().ToArray();
        Assert.Equal(1_000_000.25f, v[0], 0.5f);
        Assert.Equal(0.25f, v[1]);
    }

    [Fact]
    public void Leaky_slope_is_one_tenth()
    {
        using var net = OneConv("", "leaky");
        using (no_grad()) net.ConvolutionalLayers[0].Weights.fill_(1);

        using var y = net.call(tensor(new float[] { -2, 0, 3 }, [1, 1, 1, 3]))[0];

        Assert.Equal(new[] { -0.2f, 0f, 3f }, y.data<float>().ToArray());
    }

    [Fact]
    public void Size2_stride1_maxpool_keeps_size_and_reads_right_and_down()
    {
        // Given darknet's [maxpool] size=2 stride=1 (padding 1, all of it after the last row/column)
        using var net = new DarknetNetwork(DarknetConfig.ParseText("[net]\nwidth=3\nheight=2\nchannels=1\n[maxpool]\nsize=2\nstride=1\n"));

        using var y = net.call(tensor(new float[] { 1, 5, 2, 4, 0, 3 }, [1, 1, 2, 3]))[0];

        // Then each cell is the max of itself, its right, lower and lower-right neighbours
        Assert.Equal(new long[] { 1, 1, 2, 3 }, y.shape);
        Assert.Equal(new[] { 5f, 5, 3, 4, 3, 3 }, y.data<float>().ToArray());
    }
}

public sealed class DarknetWeightsTests
{
    private const string TinyCfg = """
        [net]
        width=32
        height=32
        channels=3

        [convolutional]
        batch_normalize=1
        filters=4
        size=3
        stride=1
        pad=1
        activation=leaky

        [maxpool]
        size=2
        stride=2

        [convolutional]
        filters=14
        size=1
        stride=1
        pad=1
        activation=linear

        [yolo]
        mask = 0,1
        anchors = 10,14,  23,27
        classes=2
        num=2
        """;

    [Fact]
    public void Write_then_read_gives_the_same_bytes_and_tensors()
    {
        // Given a network with random parameters
        using var dir = new TempDir();
        manual_seed(3);
        using var a = new DarknetNetwork(DarknetConfig.ParseText(TinyCfg));
        using (no_grad())
            foreach (var c in a.ConvolutionalLayers)
            {
                c.Weights.copy_(randn(c.Weights.shape));
                c.Biases.copy_(randn(c.Filters));
                if (c.BatchNormalize)
                {
                    c.Scales!.copy_(randn(c.Filters));
                    c.RollingMean!.copy_(randn(c.Filters));
                    c.RollingVariance!.copy_(rand(c.Filters));
                }
            }
        string first = Path.Combine(dir.Path, "a.weights"), second = Path.Combine(dir.Path, "b.weights");
        var header = new DarknetWeightsHeader(0, 2, 5, 123_456_789_012L);

        // When written, read into a fresh network and written again
        DarknetWeights.Write(first, a, header);
        using var b = new DarknetNetwork(DarknetConfig.ParseText(TinyCfg));
        var read = DarknetWeights.Read(first, b);
        DarknetWeights.Write(second, b, read);

        // Then header, bytes and every parameter survive exactly; the size is 20 + 4 * (4+12 + 108 + 14 + 56)
        Assert.Equal(header, read);
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.Equal(20 + 4 * (4 + 12 + 108 + 14 + 56), new FileInfo(first).Length);
        var sa = a.state_dict();
        foreach (var (key, value) in b.state_dict())
            Assert.True((value == sa[key]).all().item<bool>(), key);
    }

    [Fact]
    public void Version_0_1_files_store_seen_as_int32()
    {
        using var dir = new TempDir();
        using var net = new DarknetNetwork(DarknetConfig.ParseText(TinyCfg));
        string path = Path.Combine(dir.Path, "old.weights");

        DarknetWeights.Write(path, net, new DarknetWeightsHeader(0, 1, 0, 42));

        Assert.Equal(16 + DarknetWeights.PayloadBytes(net), new FileInfo(path).Length);
        Assert.Equal(new DarknetWeightsHeader(0, 1, 0, 42), DarknetWeights.Read(path, net));
    }

    [Fact]
    public void A_file_for_another_cfg_is_refused()
    {
        using var dir = new TempDir();
        using var net = new DarknetNetwork(DarknetConfig.ParseText(TinyCfg));
        string path = Path.Combine(dir.Path, "short.weights");
        DarknetWeights.Write(path, net);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^4]);

        var e = Assert.Throws<ModelFileException>(() => DarknetWeights.Read(path, net));

        Assert.Contains("ends after", e.Message);
    }

    /// <summary>
    /// A 2x2-cell detector whose every cell says "class 0" with logit 5 (x, y, w, h logits 0): four boxes of the
    /// anchor's 16x16 size centred on the cells, scores sigmoid(5)^2.
    /// </summary>
    internal static (string Cfg, string Weights, string Names) FourBoxDetector(string dir)
    {
        string cfg = Path.Combine(dir, "four.cfg");
        File.WriteAllText(cfg, """
            [net]
            width=32
            height=32
            [maxpool]
            size=16
            stride=16
            [convolutional]
            filters=7
            size=1
            stride=1
            activation=linear
            [yolo]
            mask=0
            anchors=16,16
            classes=2
            num=1
            """);
        using var net = DarknetNetwork.FromFile(cfg);
        using (no_grad()) net.ConvolutionalLayers[0].Biases.copy_(tensor(new float[] { 0, 0, 0, 0, 5, 5, -5 }));
        string weights = Path.Combine(dir, "four.weights");
        DarknetWeights.Write(weights, net);
        string names = Path.Combine(dir, "four.names");
        File.WriteAllText(names, "cat\ndog\n");
        return (cfg, weights, names);
    }
}

public sealed class DarknetGeometryTests
{
    [Fact]
    public void Letterbox_of_500x375_at_416_is_416x312_at_offset_52()
    {
        // Given a 500x375 white image
        var image = new RgbImage(500, 375);
        Array.Fill(image.Pixels, (byte)255);

        // When letterboxed like darknet
        var geometry = DarknetImage.LetterboxGeometry(500, 375, 416, 416);
        var boxed = DarknetImage.Letterbox(image, 416, 416);

        // Then the image fills rows 52..363 and the border is 0.5 grey
        Assert.Equal((416, 312, 0, 52), geometry);
        Assert.Equal(0.5f, boxed[51 * 416 + 200]);
        Assert.Equal(1f, boxed[52 * 416 + 200]);
        Assert.Equal(1f, boxed[363 * 416 + 200]);
        Assert.Equal(0.5f, boxed[364 * 416 + 200]);
    }

    [Fact]
    public void Box_correction_uses_the_fractional_offset()
    {
        // 500x333 at 416: new height 277, integer offset 69 but darknet subtracts (416-277)/2. = 69.5 rows
        var (_, newH, _, dy) = DarknetImage.LetterboxGeometry(500, 333, 416, 416);
        var (x, y, w, h) = YoloDecoder.CorrectBox(0.5f, 0.5f, 0.25f, 0.25f, 500, 333, 416, 416);

        Assert.Equal((277, 69), (newH, dy));
        Assert.Equal(250f, x, 1e-3f);
        Assert.Equal((float)((0.5 - 69.5 / 416) / (277f / 416) * 333), y, 1e-3f);
        Assert.Equal(125f, w, 1e-3f);
        Assert.Equal(0.25f * (416f / 277) * 333, h, 1e-3f);
    }

    [Fact]
    public void Resize_is_darknets_two_pass_bilinear()
    {
        // 2 -> 3 columns: scale (2-1)/(3-1) = 0.5, so the middle column is the mean and the last copies the last pixel
        var r = DarknetImage.Resize([0f, 1f, 0f, 1f], 1, 2, 2, 3, 2);
        Assert.Equal(new[] { 0f, 0.5f, 1f, 0f, 0.5f, 1f }, r);

        // 2 -> 3 rows: the last row is (1 - dy) * part[iy] only, like darknet
        var rows = DarknetImage.Resize([0f, 1f], 1, 1, 2, 1, 3);
        Assert.Equal(new[] { 0f, 0.5f, 1f }, rows);
    }
}

public sealed class NmsTests
{
    [Fact]
    public void Boxes_with_iou_equal_to_the_threshold_are_both_kept()
    {
        // Given a box inside one twice its area: IoU exactly 0.5
        (float, float, float, float)[] boxes = [(0, 0, 4, 1), (0, 0, 2, 1)];
        float[] scores = [0.9f, 0.8f];

        Assert.Equal(0.5f, Nms.IoU(boxes[0], boxes[1]));
        Assert.Equal([0, 1], Nms.Greedy(boxes, scores, 0.5f));
        Assert.Equal([0], Nms.Greedy(boxes, scores, 0.49f));
    }

    [Fact]
    public void Suppression_is_per_class_and_suppressed_boxes_do_not_suppress()
    {
        // b overlaps a and c, a and c do not overlap; a > b > c
        // IoU(a, b) = IoU(b, c) = 70/130 = 0.54, IoU(a, c) = 40/160 = 0.25
        (float, float, float, float)[] boxes = [(0, 0, 10, 10), (3, 0, 13, 10), (6, 0, 16, 10), (0, 0, 10, 10)];
        float[] scores = [0.9f, 0.8f, 0.7f, 0.6f];
        int[] classes = [0, 0, 0, 1];

        var kept = Nms.PerClass(boxes, scores, classes, 0.45f);

        // b falls to a; c survives because b was already gone; the class-1 copy of a stays
        Assert.Equal([0, 2, 3], kept);
    }
}

public sealed class DarknetDetectorTests
{
    [Fact]
    public void Predict_writes_drawn_images_text_and_coco_json()
    {
        // Given the four-box detector and two images given in unsorted order
        using var dir = new TempDir();
        var (cfg, weights, names) = DarknetWeightsTests.FourBoxDetector(dir.Path);
        var image = new RgbImage(64, 48);
        Array.Fill(image.Pixels, (byte)90);
        string b = Path.Combine(dir.Path, "b.png"), a = Path.Combine(dir.Path, "a.png");
        ImageEncoder.SavePng(image, b);
        ImageEncoder.SavePng(image, a);
        string outDir = Path.Combine(dir.Path, "out");

        // When predicting
        using var detector = YoloDetector.LoadDarknet(cfg, weights, names);
        var run = detector.Predict([b, a], outDir);

        // Then each image has 4 "cat" boxes of 32x32 px (anchor 16/32 of the 32-px letterbox width = half of 64 px),
        // centred on the cells; the 64x48 image letterboxes to 32x24 at row offset 4
        Assert.Equal([a, b], run.Images.Select(i => i.Path));
        var objects = run.Images[0].Objects;
        Assert.Equal(4, objects.Count);
        float score = 1 / (1 + MathF.Exp(-5));
        Assert.All(objects, o => Assert.Equal(("cat", score * score), (o.ClassName, o.Score), new ScoreComparer()));
        var first = objects.OrderBy(o => o.X1).ThenBy(o => o.Y1).First();
        // x centre 0.25 * 64 = 16, width 0.5 * 64 = 32; y centre (0.25 - 0.125) / 0.75 * 48 = 8, height
        // 0.5 * (32/24) * 48 = 32, so y1 = -8 is clipped to 0
        Assert.Equal(0f, first.X1, 1e-3f);
        Assert.Equal(32f, first.X2, 1e-3f);
        Assert.Equal(0f, first.Y1, 1e-3f);
        Assert.Equal(24f, first.Y2, 1e-3f);

        var lines = File.ReadAllLines(Path.Combine(outDir, "detections.txt"));
        Assert.Equal(2, lines.Length);
        Assert.StartsWith(a + " ", lines[0]);
        Assert.Equal(4, lines[0].Split(' ').Length - 1);
        Assert.Equal(6, lines[0].Split(' ')[1].Split(',').Length);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "detections.json")));
        var entries = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(8, entries.Count);
        Assert.Equal([1, 1, 1, 1, 2, 2, 2, 2], entries.Select(e => e.GetProperty("image_id").GetInt32()));
        Assert.All(entries, e => Assert.Equal(1, e.GetProperty("category_id").GetInt32()));
        Assert.Equal("b.png", entries[^1].GetProperty("file_name").GetString());
        Assert.Equal(32.0, entries[0].GetProperty("bbox")[2].GetDouble(), 2);

        var drawn = ImageDecoder.Decode(Path.Combine(outDir, "a.png"));
        Assert.Equal((64, 48), (drawn.Width, drawn.Height));
        Assert.NotEqual(image.Pixels, drawn.Pixels);
    }

    [Fact]
    public void Names_file_with_the_wrong_count_is_refused()
    {
        using var dir = new TempDir();
        var (cfg, weights, _) = DarknetWeightsTests.FourBoxDetector(dir.Path);
        string names = dir.Write("three.names", "a\nb\nc\n");

        var e = Assert.Throws<ModelFileException>(() => YoloDetector.LoadDarknet(cfg, weights, names));

        Assert.Contains("has 3 names but four.cfg's [yolo] layers have classes=2", e.Message);
    }

    private sealed class ScoreComparer : IEqualityComparer<(string, float)>
    {
        public bool Equals((string, float) x, (string, float) y) => x.Item1 == y.Item1 && Math.Abs(x.Item2 - y.Item2) < 1e-5;
        public int GetHashCode((string, float) obj) => obj.Item1.GetHashCode();
    }
}
