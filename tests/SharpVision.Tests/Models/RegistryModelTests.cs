using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Models;

public class RegistryModelTests
{
    // Smallest sides each network takes (smallcnn's four valid convs + pools need 64 px or more).
    public static TheoryData<string, int> TrainableModels => new()
    {
        { "smallcnn", 64 }, { "minicnn", 32 }, { "resnet18", 32 }, { "resnet34", 32 }, { "resnet50", 32 },
    };

    [Fact]
    public void Registry_lists_every_built_in_model_sorted()
    {
        Assert.Equal(["minicnn", "resnet18", "resnet18-mlnet", "resnet34", "resnet50", "smallcnn", "vgg16"], ModelRegistry.Names);
    }

    [Theory]
    [MemberData(nameof(TrainableModels))]
    public void Model_runs_forward_and_backward_and_changes_its_head(string name, int size)
    {
        // Given a registered model for 3 classes at a small size
        using var model = ModelRegistry.Create(name, new ModelOptions(3, size));
        model.train();
        using var x = randn(2, 3, size, size);

        // When it runs forward and backward
        using var logits = model.call(x);
        using var loss = logits.square().mean();
        loss.backward();

        // Then the logits are [2, 3] with no NaN and every trainable parameter received a gradient
        Assert.Equal(new long[] { 2, 3 }, logits.shape);
        Assert.False(logits.isnan().any().item<bool>());
        foreach (var (pname, p) in model.named_parameters())
            Assert.True(p.grad is not null, $"{name}: {pname} has no gradient");
        Assert.Equal(3, model.Info.NumClasses);
        Assert.Equal(size, model.Info.Preprocessing.Size);

        // When the classifier is reset to 5 classes; Then the output has 5 columns and features are unchanged in width
        model.ResetClassifier(5);
        model.eval();
        using var _ = no_grad();
        using var features = model.ForwardFeatures(x);
        using var logits5 = model.call(x);
        Assert.Equal(new long[] { 2, model.NumFeatures }, features.shape);
        Assert.Equal(new long[] { 2, 5 }, logits5.shape);
        Assert.Equal(5, model.Info.NumClasses);
        Assert.All(model.HeadModules(), m => Assert.Contains(m.parameters(), p => p.shape[0] == 5));
    }

    public static TheoryData<string, int> EveryClassifier => new()
    {
        { "smallcnn", 64 }, { "minicnn", 32 }, { "resnet18", 32 }, { "resnet34", 32 }, { "resnet50", 32 }, { "vgg16", 32 }, { "resnet18-mlnet", 32 },
    };

    [Theory]
    [MemberData(nameof(EveryClassifier))]
    public void Eval_forward_in_channels_last_gives_the_logits_of_the_nchw_network(string name, int size)
    {
        // Given a model in eval mode with trained-looking BatchNorm statistics (one training pass moves them)
        manual_seed(3);
        using var model = ModelRegistry.Create(name, new ModelOptions(4, size));
        using var x = randn(3, 3, size, size);
        model.train();
        using (no_grad()) model.call(x).Dispose();
        model.eval();
        using var _ = no_grad();

        // When eval forward runs (channels-last inside) and the same network runs on the NCHW tensor stage by stage
        using var logits = model.call(x);
        using var reference = model.ForwardHead(model.ForwardFeatures(x));

        // Then the logits agree, and the caller's tensor keeps its layout
        Assert.False(ChannelsLast.Is(x));
        float scale = reference.abs().max().item<float>() + 1e-3f;
        float diff = (logits - reference).abs().max().item<float>();
        Assert.True(diff <= 1e-4f * scale, $"{name}: max |difference| {diff} (logits up to {scale})");
    }

    [Fact]
    public void Channels_last_keeps_shape_and_values_with_nhwc_strides()
    {
        using var x = arange(2 * 3 * 4 * 5, dtype: ScalarType.Float32).reshape(2, 3, 4, 5);
        using var cl = ChannelsLast.Of(x);
        Assert.Equal(x.shape, cl.shape);
        Assert.Equal(new long[] { 60, 1, 15, 3 }, cl.stride());
        Assert.True(ChannelsLast.Is(cl));
        Assert.True(x.eq(cl).all().item<bool>());
    }

    [Fact]
    public void Vgg16_runs_forward_at_32_pixels_and_resets_its_classifier()
    {
        using var model = ModelRegistry.Create("vgg16", new ModelOptions(4, 32));
        model.eval();
        using var _ = no_grad();
        using var x = randn(2, 3, 32, 32);
        using var logits = model.call(x);
        Assert.Equal(new long[] { 2, 4 }, logits.shape);
        Assert.False(logits.isnan().any().item<bool>());
        Assert.Equal(4096, model.NumFeatures);

        model.ResetClassifier(2);
        using var logits2 = model.call(x);
        Assert.Equal(new long[] { 2, 2 }, logits2.shape);
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.Contains("classifier.6.weight", keys);
        Assert.Contains("features.28.bias", keys);
        Assert.Equal(new long[] { 2, 4096 }, model.state_dict()["classifier.6.weight"].shape);
    }

    [Theory]
    [InlineData("smallcnn", 1, 150, 3_453_121L)]
    [InlineData("minicnn", 10, 28, 288_746L)] // widths 32/64/128 (MiniCnn's remarks say why)
    [InlineData("vgg16", 1000, 224, 138_357_544L)]
    [InlineData("resnet18", 1000, 224, 11_689_512L)]
    [InlineData("resnet34", 1000, 224, 21_797_672L)]
    [InlineData("resnet50", 1000, 224, 25_557_032L)]
    public void Parameter_count_matches_the_reference(string name, int classes, int size, long expected)
    {
        using var model = ModelRegistry.Create(name, new ModelOptions(classes, size));
        Assert.Equal(expected, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Minicnn_width_16_is_the_former_network()
    {
        // 16/32/64 filters: the 72,954 parameters minicnn had before issue 11 widened it (3 channels, 10 classes)
        using var model = ModelRegistry.Create("minicnn", new ModelOptions(10, 28, Width: 16));
        Assert.Equal(72_954L, model.parameters().Sum(p => p.numel()));
        Assert.Equal(16, model.Info.Width);
        Assert.Equal(new long[] { 64, 64, 3, 3 }, model.state_dict().Where(p => p.Key.EndsWith(".weight", StringComparison.Ordinal) && p.Value.dim() == 4).Last().Value.shape);
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("smallcnn")]
    public void Width_for_a_family_without_one_is_refused(string name)
    {
        var e = Assert.Throws<InvalidOptionException>(() => ModelRegistry.Create(name, new ModelOptions(2, 32, Width: 16)));
        Assert.Equal($"ModelRegistry.Width must be left out for {name} (a width applies to minicnn). Received: ModelRegistry.Width=16", e.Message);
    }

    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    public void ResNet_state_dict_has_torchvision_keys_and_shapes(string name)
    {
        // Given our network and TorchVision's for the same variant
        using var ours = ModelRegistry.Create(name, new ModelOptions(1000, 224));
        using nn.Module reference = name == "resnet18" ? torchvision.models.resnet18() : torchvision.models.resnet50();

        // Then every key (num_batches_tracked included) and shape is the same
        var a = ours.state_dict().ToDictionary(kv => kv.Key, kv => string.Join(",", kv.Value.shape));
        var b = reference.state_dict().ToDictionary(kv => kv.Key, kv => string.Join(",", kv.Value.shape));
        Assert.Equal(b.OrderBy(kv => kv.Key), a.OrderBy(kv => kv.Key));
        Assert.Contains("layer1.0.bn1.num_batches_tracked", a.Keys);
        Assert.Equal(("conv1", "fc"), (ours.Info.FirstConv, ours.Info.Classifier));
    }

    [Fact]
    public void ResNet_stages_are_reusable_with_other_block_counts()
    {
        // Given a ResNet-18 variant with 3 blocks in the last stage
        using var model = new ResNet("resnet18_3", ResNetBlockKind.Basic, [2, 2, 2, 3], numClasses: 2);
        using var x = randn(1, 3, 64, 64);
        model.eval();
        using var _ = no_grad();

        // When the stages run; Then strides 4..32 and widths 64..512 come out, and layer4 has 3 blocks
        var stages = model.ForwardStages(x);
        Assert.Equal([new long[] { 1, 64, 16, 16 }, [1, 128, 8, 8], [1, 256, 4, 4], [1, 512, 2, 2]], stages.Select(s => s.shape).ToList());
        Assert.Contains("layer4.2.conv2.weight", model.state_dict().Keys);
        foreach (var s in stages) s.Dispose();
    }

    [Fact]
    public void Grayscale_resnet_takes_one_channel_and_uses_gray_statistics()
    {
        using var model = ModelRegistry.Create("resnet18", new ModelOptions(2, 32, Channels: 1));
        Assert.Equal(new long[] { 64, 1, 7, 7 }, model.state_dict()["conv1.weight"].shape);
        Assert.Equal(1, model.Info.Preprocessing.Channels);
        Assert.Single(model.Info.Preprocessing.Mean);
    }

    [Fact]
    public void Unknown_model_name_lists_the_allowed_names()
    {
        var e = Assert.Throws<InvalidOptionException>(() => ModelRegistry.Create("resnet19", new ModelOptions(2, 32)));
        Assert.Equal("ModelRegistry.Model must be one of minicnn, resnet18, resnet18-mlnet, resnet34, resnet50, smallcnn, vgg16 or a .yaml file. Received: ModelRegistry.Model=resnet19", e.Message);
    }

    [Fact]
    public void Registering_a_name_twice_is_an_error()
    {
        Assert.Throws<InvalidOperationException>(() => ModelRegistry.Register("resnet18", 224, o => ResNet.ResNet18(o.NumClasses)));
    }

    [Fact]
    public void Zero_image_size_takes_the_model_default()
    {
        using var model = ModelRegistry.Create("smallcnn", new ModelOptions(1, 0));
        Assert.Equal(150, model.Info.Preprocessing.Size);
        Assert.Equal(150, ModelRegistry.DefaultImageSize("smallcnn"));
        Assert.Equal(224, ModelRegistry.DefaultImageSize("resnet50"));
    }
}
