using System.Globalization;
using System.IO.Compression;
using SharpVision.Imaging;

namespace SharpVision.Data;

/// <summary>
/// The raw embedded digits: <see cref="Images"/>[i] is 8x8 row-major values 0..16, <see cref="Labels"/>[i] is 0..9.
/// </summary>
public sealed record DigitsData(IReadOnlyList<byte[]> Images, IReadOnlyList<int> Labels)
{
    public int Count => Labels.Count;
}

/// <summary>
/// The default data set shipped inside the library: the UCI optical recognition of handwritten digits as
/// scikit-learn ships it (1,797 images of 8x8 pixels, values 0..16, ten classes). Lets every command run
/// with no download.
/// </summary>
public static class Digits
{
    /// <summary>Image side in pixels.</summary>
    public const int Side = 8;
    /// <summary>Largest pixel value in the raw data.</summary>
    public const int MaxValue = 16;
    /// <summary>Share of each digit exported to <c>test/</c>.</summary>
    public const double TestFraction = 0.2;
    /// <summary>Seed of the fixed train/test split, so every export writes the same files.</summary>
    public const int SplitSeed = 1797;

    private const string ResourceName = "SharpVision.digits.csv.gz";

    /// <summary>Reads the embedded CSV (64 pixel values then the label per row, no header).</summary>
    public static DigitsData Load()
    {
        using var stream = typeof(Digits).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing from the SharpVision assembly");
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip);
        var images = new List<byte[]>();
        var labels = new List<int>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length == 0) continue;
            var parts = line.Split(',');
            if (parts.Length != Side * Side + 1)
                throw new InvalidDataException($"{ResourceName}: row {labels.Count + 1} has {parts.Length} values, expected {Side * Side + 1}");
            var pixels = new byte[Side * Side];
            for (int i = 0; i < pixels.Length; i++) pixels[i] = byte.Parse(parts[i], CultureInfo.InvariantCulture);
            images.Add(pixels);
            labels.Add(int.Parse(parts[^1], CultureInfo.InvariantCulture));
        }
        return new DigitsData(images, labels);
    }

    /// <summary>
    /// Writes the digits as a folder-per-class data set: <c>outDir/train/&lt;digit&gt;/&lt;index&gt;.png</c> and
    /// <c>outDir/test/&lt;digit&gt;/&lt;index&gt;.png</c>, where index is the row in the embedded data. Each image is an
    /// 8x8 grayscale PNG, value <c>round(v * 255 / 16)</c>. The split is a fixed stratified 80/20
    /// (<see cref="DatasetSplit"/> rules, seed <see cref="SplitSeed"/>): 1,438 train and 359 test images, the same
    /// files, byte for byte, on every export. Existing files of the same name are overwritten; others are left alone.
    /// </summary>
    public static ImageFolderExport Export(string outDir)
    {
        var data = Load();
        var (train, test) = DatasetSplit.StratifiedIndices(data.Labels.ToArray(), 10, TestFraction, SplitSeed);
        string trainDir = Path.Combine(outDir, "train"), testDir = Path.Combine(outDir, "test");
        string[] classes = Enumerable.Range(0, 10).Select(d => d.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new ImageFolderExport(trainDir, testDir, Write(data, classes, train, trainDir), Write(data, classes, test, testDir));
    }

    private static int[] Write(DigitsData data, string[] classes, List<int> indices, string dir) =>
        ImageFolderExport.WriteSplit(dir, classes, indices, i => data.Labels[i], i => EncodePng(data.Images[i]));

    private static byte[] EncodePng(byte[] values)
    {
        var gray = new byte[Side * Side];
        for (int i = 0; i < values.Length; i++)
        {
            // (v * 255 + 8) / 16 is round(v * 255 / 16) with halves rounded up; only v = 8 has a half (127.5 -> 128).
            gray[i] = (byte)((values[i] * 255 + MaxValue / 2) / MaxValue);
        }
        return ImageEncoder.EncodeGrayPng(gray, Side, Side);
    }
}
