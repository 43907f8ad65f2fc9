using SharpVision.Data;
using SkiaSharp;

namespace SharpVision.Tests.Data;

public class DigitsTests
{
    [Fact]
    public void Embedded_digits_have_1797_images_of_64_values_up_to_16()
    {
        var data = Digits.Load();
        Assert.Equal(1797, data.Count);
        Assert.All(data.Images, img => Assert.Equal(64, img.Length));
        Assert.Equal(16, data.Images.Max(img => img.Max()));
        Assert.Equal(Enumerable.Range(0, 10), data.Labels.Distinct().Order());
        Assert.Equal(0, data.Labels[0]); // first row of sklearn's digits is a 0
    }

    [Fact]
    public void Export_writes_fixed_stratified_split_of_pngs_and_is_byte_identical_when_repeated()
    {
        using var a = new TempDir();
        using var b = new TempDir();

        // When exported twice
        var first = Digits.Export(a.Path);
        var second = Digits.Export(b.Path);

        // Then 1,438 train and 359 test images, every digit on both sides
        Assert.Equal(1438, first.TrainCount);
        Assert.Equal(359, first.TestCount);
        Assert.All(first.TrainPerClass, n => Assert.True(n > 100));
        Assert.All(first.TestPerClass, n => Assert.InRange(n, 35, 37));
        Assert.Equal(first.TestPerClass, second.TestPerClass);

        // And the folder layout reads back with the same counts
        var train = FolderDataset.Load(first.TrainDir);
        Assert.Equal(Enumerable.Range(0, 10).Select(d => d.ToString()), train.Classes);
        Assert.Equal(first.TrainPerClass, train.CountsPerClass());

        // And both exports hold the same files with the same bytes
        var filesA = Directory.GetFiles(a.Path, "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a.Path, f)).Order().ToList();
        var filesB = Directory.GetFiles(b.Path, "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(b.Path, f)).Order().ToList();
        Assert.Equal(1797, filesA.Count);
        Assert.Equal(filesA, filesB);
        Assert.All(filesA, f => Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, f)), File.ReadAllBytes(Path.Combine(b.Path, f))));
    }

    [Fact]
    public void Exported_png_holds_gray_values_scaled_to_255()
    {
        using var dir = new TempDir();
        var export = Digits.Export(dir.Path);
        var data = Digits.Load();
        // Image 0 is a 0; find which side it went to.
        string path = new[] { export.TrainDir, export.TestDir }.Select(d => Path.Combine(d, "0", "0.png")).Single(File.Exists);

        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal((8, 8), (bitmap.Width, bitmap.Height));
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
            {
                int v = data.Images[0][y * 8 + x];
                byte expected = (byte)Math.Round(v * 255 / 16.0, MidpointRounding.AwayFromZero);
                var px = bitmap.GetPixel(x, y);
                Assert.Equal((expected, expected, expected), (px.Red, px.Green, px.Blue));
            }
    }
}
