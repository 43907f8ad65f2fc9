using SharpVision.Data;
using SkiaSharp;
using static SharpVision.Tests.Data.IdxFileTests;

namespace SharpVision.Tests.Data;

public class FashionMnistTests
{
    private const int Side = FashionMnist.Side;

    /// <summary>An image whose pixels all differ from those of the others: value (seed + x + 3y) mod 256.</summary>
    private static byte[] Pixels(int seed) => Enumerable.Range(0, Side * Side).Select(i => (byte)(seed + i % Side + 3 * (i / Side))).ToArray();

    /// <summary>The four Fashion-MNIST files, gzipped like Debian's, holding the given labels and <see cref="Pixels"/> images.</summary>
    private static void WriteTinySet(string dir, byte[] trainLabels, byte[] testLabels)
    {
        foreach (var (split, labels, seed) in new[] { ("train", trainLabels, 0), ("t10k", testLabels, 100) })
        {
            var (images, labelFile) = FashionMnist.FileNames(split);
            var pixels = Enumerable.Range(0, labels.Length).SelectMany(i => Pixels(seed + i)).ToArray();
            File.WriteAllBytes(Path.Combine(dir, images + ".gz"), Gzip(Idx([labels.Length, Side, Side], pixels)));
            File.WriteAllBytes(Path.Combine(dir, labelFile + ".gz"), Gzip(Idx([labels.Length], labels)));
        }
    }

    [Fact]
    public void Export_writes_gray_pngs_of_the_idx_values_into_a_folder_per_class()
    {
        // Given a tiny idx pair per split: train labels 0, 9, 0 and test labels 6, 1
        using var source = new TempDir();
        using var output = new TempDir();
        WriteTinySet(source.Path, [0, 9, 0], [6, 1]);

        // When exported
        var export = FashionMnist.Export(output.Path, source.Path);

        // Then every class has its folder on both sides, the images sit under their labels' names by index
        Assert.Equal((3, 2), (export.TrainCount, export.TestCount));
        Assert.Equal([2, 0, 0, 0, 0, 0, 0, 0, 0, 1], export.TrainPerClass);
        Assert.All(FashionMnist.Classes, c => Assert.True(Directory.Exists(Path.Combine(export.TestDir, c)), c));
        string[] expected =
        [
            "test/Shirt/0.png", "test/Trouser/1.png",
            "train/Ankle_boot/1.png", "train/T-shirt_top/0.png", "train/T-shirt_top/2.png",
        ];
        var files = Directory.GetFiles(output.Path, "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(output.Path, f)).Order(StringComparer.Ordinal);
        Assert.Equal(expected, files);

        // And each is a 28x28 grayscale PNG (IHDR colour type 0) holding the file's values
        string trouser = Path.Combine(export.TestDir, "Trouser", "1.png");
        Assert.Equal(0, File.ReadAllBytes(trouser)[25]);
        using var bitmap = SKBitmap.Decode(trouser);
        Assert.Equal((Side, Side), (bitmap.Width, bitmap.Height));
        var values = Pixels(101);
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
                Assert.Equal(values[y * Side + x], bitmap.GetPixel(x, y).Red);

        // And the folders read back as a data set with Fashion-MNIST's class names
        var train = FolderDataset.Load(export.TrainDir);
        Assert.Equal(FashionMnist.Classes.Order(StringComparer.Ordinal), train.Classes);
    }

    [Fact]
    public void Labels_that_do_not_match_the_images_are_refused_naming_both_files()
    {
        // Given 3 training images but 2 labels
        using var source = new TempDir();
        using var output = new TempDir();
        WriteTinySet(source.Path, [0, 1, 2], [3]);
        var (_, labels) = FashionMnist.FileNames("train");
        File.WriteAllBytes(Path.Combine(source.Path, labels + ".gz"), Gzip(Idx([2], [0, 1])));

        var error = Assert.Throws<DatasetException>(() => FashionMnist.Export(output.Path, source.Path));

        Assert.Equal($"{Path.Combine(source.Path, labels + ".gz")} has 2 labels but {Path.Combine(source.Path, "train-images-idx3-ubyte.gz")} has 3 images", error.Message);
        Assert.Empty(Directory.GetFiles(output.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_label_outside_the_ten_classes_is_refused_with_its_index()
    {
        using var source = new TempDir();
        WriteTinySet(source.Path, [0, 10], [3]);

        var error = Assert.Throws<DatasetException>(() => FashionMnist.Load(source.Path, "train"));

        Assert.EndsWith("train-labels-idx1-ubyte.gz: label 10 at index 1 is not a class (expected 0..9)", error.Message);
    }

    [FashionMnistFact]
    public void Installed_set_has_60000_training_and_10000_test_images_of_28x28()
    {
        var (trainImages, trainLabels) = FashionMnist.Load(FashionMnist.DefaultSource, "train");
        var (testImages, _) = FashionMnist.Load(FashionMnist.DefaultSource, "t10k");

        Assert.Equal([60000, Side, Side], trainImages.Shape);
        Assert.Equal([10000, Side, Side], testImages.Shape);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(6000, trainLabels.Values.Count(v => v == c)));
        Assert.Equal(9, trainLabels.Values[0]); // the first training image is an ankle boot
    }
}

/// <summary>A fact that runs only where Debian's dataset-fashion-mnist is installed, and says why it skips otherwise.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (!FashionMnist.IsAvailable())
            Skip = $"Fashion-MNIST is not installed in {FashionMnist.DefaultSource} (apt-get install {FashionMnist.DebianPackage})";
    }
}
