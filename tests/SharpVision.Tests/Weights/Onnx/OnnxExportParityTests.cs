using SharpVision.Models;
using SharpVision.Weights.Onnx;
using Xunit.Abstractions;
using static SharpVision.Tests.Weights.Onnx.OnnxTestSupport;

namespace SharpVision.Tests.Weights.Onnx;

/// <summary>
/// Every registered architecture, exported and run in ONNX Runtime, gives SharpVision's logits within
/// |a - b| &lt;= 1e-4 * max(1, |b|). One class so the large networks run one after another (memory).
/// </summary>
public class OnnxExportParityTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = ScratchDirectory();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private double ExportAndCompare(ImageClassifier model, int batch, int seed, string? spec = null)
    {
        // Given the model in eval mode with random BN statistics and biases, and a random input
        Randomize(model, seed);
        var pre = model.Info.Preprocessing;
        long[] shape = [batch, pre.Channels, pre.Size, pre.Size];
        float[] input = RandomInput(shape, seed);
        var expectedLogits = TorchLogits(model, input, shape);
        var expectedProbabilities = TorchProbabilities(model, input, shape);
        string path = Path.Combine(_dir, model.Info.Architecture + ".onnx");

        // When exported and run in ONNX Runtime
        OnnxExporter.Export(model, Config(model, spec: spec), path);
        var (logits, probabilities) = RunOnnx(path, input, shape);
        File.Delete(path);

        // Then logits and probabilities match within the tolerance
        double largest = AssertClose(expectedLogits, logits, "logits");
        double largestP = AssertClose(expectedProbabilities, probabilities, "probabilities");
        double magnitude = expectedLogits.SelectMany(r => r).Max(v => Math.Abs(v));
        // Random-init logits can be small: also bound the error relative to their scale, so a structural slip
        // (a pad on the wrong side) cannot hide under the absolute 1e-4 floor.
        Assert.True(largest <= 1e-3 * magnitude, $"max |logit diff| {largest:G3} is not small against max |logit| {magnitude:G3}");
        output.WriteLine($"{model.Info.Architecture} @{pre.Size} batch {batch}: max |logit diff| {largest:G3} (max |logit| {magnitude:G3}), max |prob diff| {largestP:G3}");
        return largest;
    }

    [Fact]
    public void Minicnn_export_matches_in_onnx_runtime()
    {
        using var model = MiniCnn.Create(numClasses: 10, imageSize: 64);
        ExportAndCompare(model, batch: 2, seed: 1);
    }

    [Fact]
    public void Minicnn_binary_export_gives_sigmoid_probabilities()
    {
        using var model = MiniCnn.Create(numClasses: 1, imageSize: 32, channels: 1);
        ExportAndCompare(model, batch: 3, seed: 2);
    }

    [Fact]
    public void Smallcnn_export_matches_at_64_px()
    {
        using var model = SmallCnn.Create(numClasses: 1, imageSize: 64);
        ExportAndCompare(model, batch: 2, seed: 3);
    }

    [Fact]
    public void Smallcnn_export_matches_at_default_150_px()
    {
        using var model = SmallCnn.Create(numClasses: 3);
        ExportAndCompare(model, batch: 1, seed: 4);
    }

    [Fact]
    public void Resnet18_export_matches_at_224_px()
    {
        using var model = ResNet.ResNet18(numClasses: 1000);
        ExportAndCompare(model, batch: 2, seed: 5);
    }

    [Fact]
    public void Resnet50_export_matches_at_224_px()
    {
        using var model = ResNet.ResNet50(numClasses: 1000);
        ExportAndCompare(model, batch: 1, seed: 6);
    }

    [Fact]
    public void Resnet18_export_matches_at_odd_size_and_one_channel()
    {
        // 97 px: odd sides through the stride-2 convs and pools; 1 channel changes the first conv.
        using var model = ResNet.ResNet18(numClasses: 4, channels: 1, imageSize: 97);
        ExportAndCompare(model, batch: 2, seed: 7);
    }

    [Fact]
    public void Vgg16_export_matches_at_default_224_px()
    {
        using var model = Vgg.Vgg16(numClasses: 1000);
        ExportAndCompare(model, batch: 1, seed: 8);
    }

    [Fact]
    public void Vgg16_export_matches_at_64_px_where_adaptive_pool_spreads_2x2_to_7x7()
    {
        // 64 px leaves a 2x2 map before AdaptiveAvgPool2d(7, 7): overlapping bins, written as two MatMuls.
        using var model = Vgg.Vgg16(numClasses: 5, imageSize: 64);
        ExportAndCompare(model, batch: 2, seed: 9);
    }

    [Fact]
    public void Custom_yaml_model_with_same_padding_pooling_and_every_activation_matches()
    {
        // Given a builder model with asymmetric 'same' padding (even kernels, stride 2), same max/avg pooling
        // on odd sides, BN on both 4-D and flat inputs, and every activation
        const string yaml = """
            name: every_layer
            input: {size: 37, channels: 3}
            layers:
              - Conv2D: {filters: 8, kernel_size: 4, strides: 2, padding: same, activation: elu}
              - BatchNormalization: {epsilon: 0.01}
              - AveragePooling2D: {pool_size: 3, strides: 2, padding: same}
              - Conv2D: {filters: 12, kernel_size: 3, padding: same, activation: tanh, use_bias: false}
              - MaxPooling2D: {pool_size: 2, strides: 1, padding: same}
              - Conv2D: {filters: 12, kernel_size: 2, strides: 1, padding: same, activation: leaky_relu}
              - AveragePooling2D: {pool_size: 2}
              - Conv2D: {filters: 6, kernel_size: 3, activation: sigmoid}
              - Activation: {activation: softmax}
              - Flatten
              - Dense: {units: 16, activation: relu}
              - BatchNormalization: {}
              - Dropout: {rate: 0.5}
              - Dense: {units: 7, activation: linear}
              - Activation: {activation: tanh}
              - Dense: {units: 4, activation: softmax}
            """;
        var spec = ModelYaml.Parse(yaml);
        using var model = new SequentialModel(spec);

        // When exported, Then it matches
        ExportAndCompare(model, batch: 3, seed: 10, spec: ModelYaml.ToYaml(model.Spec));
    }
}
