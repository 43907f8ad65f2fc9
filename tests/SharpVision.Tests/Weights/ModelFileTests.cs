using SharpVision.Imaging;
using SharpVision.Tests.TestSupport;
using SharpVision.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpVision.Tests.Weights;

public class ModelFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sv-modelfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelConfig Config(int classes, Preprocessing? pre = null) => new()
    {
        Architecture = "tiny",
        NumClasses = classes,
        Classes = Enumerable.Range(0, classes).Select(i => $"c{i}").ToList(),
        Preprocessing = pre ?? new Preprocessing { Size = 8, Mean = [0.1f, 0.2f, 0.3f], Std = [0.5f, 0.6f, 0.7f] },
    };

    [Fact]
    public void Saved_model_reloads_with_equal_weights_classes_and_preprocessing()
    {
        // Given a model with non-default weights and BN statistics
        torch.manual_seed(1);
        var model = new TinyClassifier(3);
        using (no_grad())
            foreach (var (_, b) in model.named_buffers())
                if (b.dtype == ScalarType.Float32) b.uniform_(0.5, 1.5);
        string path = Path.Combine(_dir, "m.svmodel");

        // When saved and loaded back
        ModelFile.Save(path, model, Config(3));
        var (config, loaded) = ModelFile.Load(path, c => new TinyClassifier(c.NumClasses, c.Preprocessing.Size));

        // Then every tensor is bit-equal and the description survives
        foreach (var (key, t) in model.state_dict())
            Assert.True(t.eq(loaded.state_dict()[key]).all().item<bool>(), key);
        Assert.Equal(new[] { "c0", "c1", "c2" }, config.Classes);
        Assert.Equal(new[] { 0.5f, 0.6f, 0.7f }, config.Preprocessing.Std);
        Assert.Equal("tiny", config.Architecture);
        model.eval(); loaded.eval();
        using var x = randn(2, 3, 8, 8);
        Assert.True(model.call(x).allclose(loaded.call(x)));
    }

    [Fact]
    public void Mean_image_travels_as_a_tensor_not_in_json()
    {
        var mean = Enumerable.Range(0, 3 * 8 * 8).Select(i => i * 0.5f).ToArray();
        string path = Path.Combine(_dir, "mean.svmodel");
        ModelFile.Save(path, new TinyClassifier(2), Config(2, new Preprocessing { Size = 8, MeanImage = mean, ChannelOrder = "BGR" }));

        var config = ModelFile.ReadConfig(path);
        Assert.Null(config.Preprocessing.MeanImage);
        var (full, _) = ModelFile.Load(path, c => new TinyClassifier(c.NumClasses));
        Assert.Equal(mean, full.Preprocessing.MeanImage);
        Assert.Equal("BGR", full.Preprocessing.ChannelOrder);
    }

    [Fact]
    public void Wrong_class_count_names_the_key_and_both_shapes()
    {
        string path = Path.Combine(_dir, "three.svmodel");
        ModelFile.Save(path, new TinyClassifier(3), Config(3));

        var e = Assert.Throws<ModelFileException>(() => ModelFile.Load(path, _ => new TinyClassifier(5)));
        Assert.Contains("fc.weight", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("[5, 4]", e.Message);
    }

    [Fact]
    public void Truncated_file_gives_a_clear_error()
    {
        string path = Path.Combine(_dir, "cut.svmodel");
        ModelFile.Save(path, new TinyClassifier(2), Config(2));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var e = Assert.Throws<ModelFileException>(() => ModelFile.Load(path, c => new TinyClassifier(c.NumClasses)));
        Assert.Contains(path, e.Message);
    }
}
