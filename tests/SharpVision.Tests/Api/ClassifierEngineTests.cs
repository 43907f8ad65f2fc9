using SharpVision.Api;
using SharpVision.Imaging;
using SharpVision.Tests.Cli;

namespace SharpVision.Tests.Api;

/// <summary><see cref="InferenceOptions.Engine"/> from C#: the same choice <c>predict --engine</c> maps to.</summary>
[Collection("Console")]
public sealed class ClassifierEngineTests(CliFixture fx) : IDisposable
{
    private readonly string _dir = Path.Combine(fx.Root, "api-engine-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Model()
    {
        Directory.CreateDirectory(_dir);
        string path = Path.Combine(_dir, "catdogfox.svmodel");
        File.Copy(fx.ThreeClassModel, path);
        return path;
    }

    private List<string> Jpegs(int count)
    {
        Directory.CreateDirectory(_dir);
        return Enumerable.Range(0, count).Select(i =>
        {
            string path = Path.Combine(_dir, $"photo_{i}.jpg");
            ImageEncoder.SaveJpeg(CliFixture.Image(i % 3, 400 + i, 120, 90), path, quality: 90);
            return path;
        }).ToList();
    }

    [Fact]
    public void Unknown_engine_names_the_option_record_property()
    {
        var e = Assert.Throws<InvalidOptionException>(() => Classifier.Load(Model(), new InferenceOptions { Engine = "Torch" }));

        Assert.Equal("InferenceOptions.Engine must be one of auto, torch, onnxruntime. Received: InferenceOptions.Engine=Torch", e.Message);
    }

    [Fact]
    public void Default_engine_is_torch_for_a_svmodel_and_writes_no_export()
    {
        string model = Model();

        using var classifier = Classifier.Load(model);

        Assert.Equal("torch", classifier.Engine);
        Assert.Null(classifier.OnnxCache);
        Assert.Null(classifier.EngineChoice);
        Assert.False(File.Exists(Path.ChangeExtension(model, ".onnx")));
    }

    [Fact]
    public void Auto_times_both_engines_on_the_same_floats_keeps_the_faster_and_predicts_like_torch()
    {
        // Given a .svmodel loaded with Engine = auto and a batch of 4
        string model = Model();
        var files = Jpegs(6);
        using var torchOnly = Classifier.Load(model, new InferenceOptions { Batch = 4, Workers = 1 });
        using var auto = Classifier.Load(model, new InferenceOptions { Batch = 4, Workers = 1, Engine = "auto" });
        Assert.Equal("auto", auto.Engine);
        Assert.Equal(Path.ChangeExtension(model, ".onnx"), auto.OnnxCache!.Path);

        // When it chooses on the files
        var choice = auto.ChooseEngine(files);

        // Then both engines ran the first batch and gave the same probabilities
        Assert.NotNull(choice);
        var measured = choice.Measured!;
        Assert.Equal(4, measured.Images);
        Assert.Equal(0, measured.Top1Differences);
        Assert.True(measured.MaxProbabilityDifference < 1e-5, $"max |diff| {measured.MaxProbabilityDifference}");
        Assert.True(measured.TorchImagesPerSecond > 0 && measured.OnnxRuntimeImagesPerSecond > 0);
        // and the faster one runs
        string faster = measured.OnnxRuntimeImagesPerSecond > measured.TorchImagesPerSecond ? "onnxruntime" : "torch";
        Assert.Equal(faster, choice.Engine);
        Assert.Equal(faster, auto.Engine);
        Assert.Same(choice, auto.ChooseEngine(files)); // decided once

        // And its predictions are torch's
        var expected = torchOnly.Predict(files).Images;
        var actual = auto.Predict(files).Images;
        Assert.Equal(expected.Select(p => p.Label), actual.Select(p => p.Label));
        for (int i = 0; i < expected.Count; i++)
            Assert.All(expected[i].Probabilities.Zip(actual[i].Probabilities), pair => Assert.Equal(pair.First, pair.Second, 1e-5));
    }

    [Fact]
    public void Onnxruntime_engine_gives_a_binary_model_both_columns_like_torch()
    {
        // Given the one-logit cat/dog model
        Directory.CreateDirectory(_dir);
        string model = Path.Combine(_dir, "catdog.svmodel");
        File.Copy(fx.BinaryModel, model);
        var files = Jpegs(4);

        // When both engines predict
        using var torchEngine = Classifier.Load(model, new InferenceOptions { Workers = 1 });
        using var onnxEngine = Classifier.Load(model, new InferenceOptions { Workers = 1, Engine = "onnxruntime" });
        var expected = torchEngine.Predict(files).Images;
        var actual = onnxEngine.Predict(files).Images;

        // Then each image gets [P(cat), P(dog)] from both, equal
        Assert.Equal(4, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(2, actual[i].Probabilities.Length);
            Assert.Equal(expected[i].Label, actual[i].Label);
            Assert.Equal(expected[i].Probabilities[0], actual[i].Probabilities[0], 1e-5);
            Assert.Equal(expected[i].Probabilities[1], actual[i].Probabilities[1], 1e-5);
        }
    }

    [Fact]
    public void Onnxruntime_engine_evaluates_like_torch()
    {
        // Given a labelled folder per class
        string model = Model();
        string data = Path.Combine(_dir, "data");
        string[] classes = ["cat", "dog", "fox"];
        for (int c = 0; c < 3; c++)
        {
            Directory.CreateDirectory(Path.Combine(data, classes[c]));
            for (int i = 0; i < 3; i++) ImageEncoder.SaveJpeg(CliFixture.Image(c, 600 + 10 * c + i, 80, 60), Path.Combine(data, classes[c], $"{i}.jpg"));
        }

        // When both engines evaluate it
        using var torchEngine = Classifier.Load(model, new InferenceOptions { Workers = 1 });
        using var onnxEngine = Classifier.Load(model, new InferenceOptions { Workers = 1, Engine = "onnxruntime" });
        var byTorch = torchEngine.Evaluate(data);
        var byOnnx = onnxEngine.Evaluate(data);

        // Then the numbers are the same
        Assert.Equal("onnxruntime", onnxEngine.Engine);
        Assert.True(onnxEngine.OnnxCache!.Exported);
        Assert.Equal(byTorch.Accuracy, byOnnx.Accuracy);
        Assert.Equal(byTorch.Summary.Loss, byOnnx.Summary.Loss, 1e-5);
    }
}
