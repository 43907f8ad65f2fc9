using SharpVision.Augmentation;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Tests.TestSupport;
using TorchSharp;

namespace SharpVision.Tests.Data;

/// <summary>The loader with the real decoder, resizer and Keras augmentation (what `train` runs).</summary>
public class RealPipelineTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-pipe");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private List<(float[] Images, long[] Labels)> TwoEpochs(ClassificationDataset data, int workers, int seed)
    {
        var pre = new Preprocessing { Size = 20 };
        var augment = new Augmenter(AugmentOptions.Parse(
            "rotation_range=30,width_shift_range=0.2,height_shift_range=0.1,shear_range=10,zoom_range=0.2,horizontal_flip=true,brightness_range=0.7:1.3"));
        var loader = new DataLoader(data, ImagePipeline.Create(pre, augment), pre,
            new DataLoaderOptions { BatchSize = 8, Seed = seed, Workers = workers });
        var batches = new List<(float[], long[])>();
        for (int epoch = 0; epoch < 2; epoch++)
            foreach (var b in loader.Epoch(epoch))
                using (b)
                    batches.Add((b.Images.data<float>().ToArray(), b.Labels.data<long>().ToArray()));
        return batches;
    }

    [Fact]
    public void Same_seed_with_augmentation_and_two_workers_gives_bitwise_equal_batches_over_two_epochs()
    {
        // Given a JPEG folder and the real decode + resize + Keras augmentation pipeline
        var data = FolderDataset.Load(TestImages.WriteFolders(Path.Combine(_dir, "d"), perClass: 13));

        // When two loaders with the same seed and --workers 2 run 2 epochs each
        var first = TwoEpochs(data, workers: 2, seed: 7);
        var second = TwoEpochs(data, workers: 2, seed: 7);
        var other = TwoEpochs(data, workers: 2, seed: 8);

        // Then every batch and label is bitwise the same; another seed differs
        Assert.Equal(first.Count, second.Count);
        Assert.Equal(8, first.Count); // 26 images in batches of 8 -> 4 per epoch
        for (int i = 0; i < first.Count; i++)
        {
            Assert.Equal(first[i].Labels, second[i].Labels);
            Assert.True(first[i].Images.AsSpan().SequenceEqual(second[i].Images), $"batch {i} differs");
        }
        Assert.False(first[0].Images.AsSpan().SequenceEqual(other[0].Images));
        // Epoch 2 is reshuffled and re-augmented, not a replay of epoch 1.
        Assert.False(first[0].Images.AsSpan().SequenceEqual(first[4].Images));
    }

    [Fact]
    public void Pipeline_resizes_to_the_network_input_and_reports_a_bad_file_with_its_reason()
    {
        string good = Path.Combine(_dir, "a.png");
        ImageEncoder.SavePng(TestImages.Make(0, 1, size: 37), good);
        string bad = Path.Combine(_dir, "b.jpg");
        File.WriteAllText(bad, "hello");
        var pipeline = ImagePipeline.Create(new Preprocessing { Size = 16 });

        var image = pipeline(good, new Random(0));
        var e = Assert.Throws<ImageDecodeException>(() => pipeline(bad, new Random(0)));

        Assert.Equal((16, 16), (image.Width, image.Height));
        Assert.Equal(bad, e.Path);
        Assert.Contains("not an image", e.Reason);
    }
}
