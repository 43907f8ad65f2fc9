using System.Runtime.CompilerServices;
using SharpVision.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Models;

public class SequentialModelTests
{
    private static string SamplePath([CallerFilePath] string here = "") => Path.Combine(Path.GetDirectoryName(here)!, "Samples", "my_net.yaml");

    [Fact]
    public void Smallcnn_has_keras_names_shapes_and_3453121_parameters()
    {
        // Given the book's convnet at 150x150x3 with one output
        using var model = SmallCnn.Create();

        // Then the names, the shapes before the head and the count are Keras'
        Assert.Equal(["conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "conv2d_2", "max_pooling2d_2", "conv2d_3",
            "max_pooling2d_3", "flatten", "dense", "dense_1"], model.Layers.Select(l => l.Name));
        Assert.Equal(new long[] { 128, 7, 7 }, model.Layers[7].OutputShape);
        Assert.Equal(new long[] { 6272 }, model.Layers[8].OutputShape);
        Assert.Equal(512, model.NumFeatures);
        Assert.Equal(3_453_121L, model.parameters().Sum(p => p.numel()));
        Assert.Equal(ActivationKind.Sigmoid, model.OutputActivation);
        Assert.Equal(("conv2d", "dense_1"), (model.Info.FirstConv, model.Info.Classifier));
        Assert.Contains("dense_1.weight", model.state_dict().Keys);
    }

    [Fact]
    public void Final_sigmoid_is_recorded_but_forward_returns_logits()
    {
        // Given a net whose last Dense has a sigmoid, weights set so the logit is far outside (0, 1)
        using var model = new SequentialBuilder("t", 4, 1).Flatten().Dense(1, ActivationKind.Sigmoid).Build();
        using (no_grad())
        {
            foreach (var p in model.parameters()) p.fill_(1f);
        }
        // When it runs on ones; Then the output is the raw 16 + 1, not sigmoid(17)
        using var y = model.call(ones(1, 1, 4, 4));
        Assert.Equal(17f, y.item<float>(), 4);
    }

    [Fact]
    public void Num_classes_override_switches_sigmoid_to_softmax()
    {
        using var model = SmallCnn.Create(numClasses: 4, imageSize: 64);
        Assert.Equal(4, ((DenseSpec)model.Spec.Layers[^1]).Units);
        Assert.Equal(ActivationKind.Softmax, model.OutputActivation);
        model.ResetClassifier(1);
        Assert.Equal(ActivationKind.Sigmoid, model.OutputActivation);
        Assert.Equal(1, model.Info.NumClasses);
    }

    [Fact]
    public void Same_padding_gives_ceil_of_input_over_stride()
    {
        // Given 7x7 inputs through a stride-2 'same' conv (7 -> 4) then a 'same' 2x2 pool (4 -> 2) and a 3x3/2 avg pool (2 -> 1)
        using var model = new SequentialBuilder("pad", 7, 3)
            .Conv2D(5, 3, strides: 2, padding: PaddingKind.Same)
            .MaxPooling2D(2, padding: PaddingKind.Same)
            .AveragePooling2D(3, strides: 2, padding: PaddingKind.Same)
            .Flatten().Dense(2).Build();
        Assert.Equal([new long[] { 5, 4, 4 }, [5, 2, 2], [5, 1, 1], [5], [2]], model.Layers.Select(l => l.OutputShape).ToList());

        // When it runs; Then the real tensors have those shapes
        model.eval();
        using var _ = no_grad();
        using var f = model.ForwardFeatures(randn(2, 3, 7, 7));
        Assert.Equal(new long[] { 2, 5 }, f.shape);
    }

    [Fact]
    public void Same_average_pooling_does_not_count_padded_cells()
    {
        // A 3x3 'same' stride-1 average over a constant 3 image stays 3 at the border (Keras), not 3 * 4/9
        using var model = new SequentialBuilder("avg", 3, 1).AveragePooling2D(3, strides: 1, padding: PaddingKind.Same).Flatten().Dense(1).Build();
        using var f = model.ForwardFeatures(full(1, 1, 3, 3, 3f));
        Assert.All(f.data<float>().ToArray(), v => Assert.Equal(3f, v, 5));
    }

    [Fact]
    public void Batch_normalization_uses_keras_momentum_and_epsilon()
    {
        // Keras momentum 0.99 is PyTorch's 0.01: one training step moves the running mean 1% toward the batch mean
        using var model = new SequentialBuilder("bn", 2, 1).BatchNormalization().Flatten().Dense(1).Build();
        model.train();
        using var y = model.call(full(4, 1, 2, 2, 10f));
        var mean = model.state_dict()["batch_normalization.running_mean"].item<float>();
        Assert.Equal(0.1f, mean, 5);
        Assert.Equal(1e-3, ((BatchNormalizationSpec)model.Spec.Layers[0]).Epsilon);
    }

    [Fact]
    public void Yaml_sample_parses_builds_and_round_trips()
    {
        // Given the documented sample file
        var spec = ModelYaml.Load(SamplePath());

        // Then it reads as written
        Assert.Equal("my_net", spec.Name);
        Assert.Equal((150, 3), (spec.InputSize, spec.Channels));
        Assert.Equal(new Conv2DSpec(64, 3, 2, PaddingKind.Same, ActivationKind.Relu), spec.Layers[2]);
        Assert.Equal(new DropoutSpec(0.5), spec.Layers[6]);

        // And writing then reading gives the same spec; the built model's effective spec survives too
        var text = ModelYaml.ToYaml(spec);
        Assert.Equal(spec, ModelYaml.Parse(text));
        using var model = new SequentialModel(spec, numClasses: 3);
        Assert.Equal(model.Spec, ModelYaml.Parse(ModelYaml.ToYaml(model.Spec)));
        Assert.Equal(3, ((DenseSpec)model.Spec.Layers[^1]).Units);
    }

    [Fact]
    public void Builder_and_yaml_give_the_same_spec()
    {
        var built = new SequentialBuilder("my_net", 150)
            .Conv2D(32, 3, activation: ActivationKind.Relu).MaxPooling2D(2)
            .Flatten().Dense(512, ActivationKind.Relu).Dense(1, ActivationKind.Sigmoid).Spec;
        var parsed = ModelYaml.Parse("""
            name: my_net
            input: {size: 150, channels: 3}
            layers:
              - Conv2D: {filters: 32, kernel_size: 3, activation: relu}
              - MaxPooling2D: {pool_size: 2}
              - Flatten: {}
              - Dense: {units: 512, activation: relu}
              - Dense: {units: 1, activation: sigmoid}
            """);
        Assert.Equal(built, parsed);
        Assert.Equal(ModelYaml.ToYaml(built), ModelYaml.ToYaml(parsed));
    }

    [Theory]
    [InlineData("  - Conv2d: {filters: 8, kernel_size: 3}",
        "layers[0] layer type must be one of Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten, GlobalAveragePooling2D, MaxPooling2D. Received: Conv2d")]
    [InlineData("  - Conv2D: {filters: 8, kernel: 3}",
        "layers[0] (Conv2D): unknown key 'kernel'; allowed: filters, kernel_size, strides, padding, activation, use_bias, name")]
    [InlineData("  - Conv2D: {filters: 8, kernel_size: three}",
        "layers[0] (Conv2D): kernel_size must be an integer. Received: kernel_size=three")]
    [InlineData("  - Conv2D: {filters: 8, kernel_size: 3, activation: gelu}",
        "layers[0] (Conv2D): activation must be one of relu, sigmoid, softmax, tanh, elu, leaky_relu, linear. Received: activation=gelu")]
    [InlineData("  - Conv2D: {filters: 8, kernel_size: 3, padding: full}",
        "layers[0] (Conv2D): padding must be one of valid, same. Received: padding=full")]
    [InlineData("  - Conv2D: {kernel_size: 3}", "layers[0] (Conv2D): filters is required")]
    public void Yaml_errors_name_the_layer_the_key_and_the_allowed_values(string layer, string message)
    {
        var text = $"name: t\ninput: {{size: 8, channels: 3}}\nlayers:\n{layer}\n  - Flatten: {{}}\n  - Dense: {{units: 2}}\n";
        var e = Assert.Throws<ModelDefinitionException>(() => ModelYaml.Parse(text));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Dense_on_a_spatial_input_is_refused_when_building()
    {
        var spec = ModelYaml.Parse("input: {size: 8}\nlayers:\n  - Conv2D: {filters: 4, kernel_size: 3}\n  - Dense: {units: 2}\n");
        var e = Assert.Throws<ModelDefinitionException>(() => new SequentialModel(spec));
        Assert.Equal("layers[1] (Dense): Dense needs a flat input; add Flatten or GlobalAveragePooling2D before it. Received: input shape (None, 4, 6, 6)", e.Message);
    }

    [Fact]
    public void A_network_without_a_final_dense_is_refused()
    {
        var spec = new SequentialBuilder("t", 8).Conv2D(4, 3).GlobalAveragePooling2D().Spec;
        var e = Assert.Throws<ModelDefinitionException>(() => new SequentialModel(spec));
        Assert.Contains("must end with a Dense layer", e.Message);
    }

    [Fact]
    public void Too_small_input_names_the_layer()
    {
        var e = Assert.Throws<ModelDefinitionException>(() => SmallCnn.Create(imageSize: 32));
        Assert.StartsWith("layers[6] (Conv2D): the input is too small", e.Message);
    }

    [Fact]
    public void Yaml_path_is_accepted_by_the_registry()
    {
        using var model = ModelRegistry.Create(SamplePath(), new ModelOptions(2, 64));
        Assert.Equal("custom", model.Info.Architecture);
        Assert.Equal(2, model.Info.NumClasses);
        Assert.Equal(64, model.Info.Preprocessing.Size);
    }

    [Fact]
    public void Missing_yaml_file_is_reported_with_its_path()
    {
        var e = Assert.Throws<ModelDefinitionException>(() => ModelYaml.Load("/nope/net.yaml"));
        Assert.Equal("/nope/net.yaml: model definition file not found", e.Message);
    }
}
