using SharpVision.Imaging;

namespace SharpVision.Data;

/// <summary>
/// Zalando's Fashion-MNIST (60,000 training and 10,000 test images of 28x28 grayscale clothing, ten classes) from its
/// four idx files, as Debian's <c>dataset-fashion-mnist</c> package installs them in <see cref="DefaultSource"/>
/// (or any folder holding the same files, plain or .gz). Not embedded: 30 MB compressed.
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> puts the files.</summary>
    public const string DefaultSource = "/usr/share/datasets/fashion-mnist";

    /// <summary>The Debian package that installs them.</summary>
    public const string DebianPackage = "dataset-fashion-mnist";

    /// <summary>Image side in pixels.</summary>
    public const int Side = 28;

    /// <summary>
    /// Folder names of the labels 0..9 (Zalando's names, made safe for every file system: "T-shirt/top" has a
    /// slash, and spaces are underscores).
    /// </summary>
    public static readonly IReadOnlyList<string> Classes =
        ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"];

    /// <summary>The idx files of a split ("train" or "t10k"), without the .gz the Debian files carry.</summary>
    public static (string Images, string Labels) FileNames(string split) => ($"{split}-images-idx3-ubyte", $"{split}-labels-idx1-ubyte");

    /// <summary>Whether <paramref name="fromDir"/> holds all four files (plain or .gz).</summary>
    public static bool IsAvailable(string fromDir = DefaultSource) =>
        new[] { "train", "t10k" }.All(split => Find(fromDir, FileNames(split).Images) is not null && Find(fromDir, FileNames(split).Labels) is not null);

    /// <summary>The images ([N, 28, 28]) and labels ([N], values 0..9) of a split ("train" or "t10k"), checked against each other.</summary>
    /// <exception cref="DatasetException">A file is missing or unreadable, or the two do not belong together.</exception>
    public static (IdxArray Images, IdxArray Labels) Load(string fromDir, string split)
    {
        var (imagesName, labelsName) = FileNames(split);
        string imagesPath = Require(fromDir, imagesName), labelsPath = Require(fromDir, labelsName);
        var images = IdxFile.Read(imagesPath);
        var labels = IdxFile.Read(labelsPath);
        if (images.Shape.Length != 3 || images.Shape[1] != Side || images.Shape[2] != Side)
            throw new DatasetException($"{imagesPath}: expected {Side}x{Side} images (an idx array N x {Side} x {Side}), found {string.Join('x', images.Shape)}");
        if (labels.Shape.Length != 1)
            throw new DatasetException($"{labelsPath}: expected one label per image (a 1-dimensional idx array), found {string.Join('x', labels.Shape)}");
        if (labels.Count != images.Count)
            throw new DatasetException($"{labelsPath} has {labels.Count:N0} labels but {imagesPath} has {images.Count:N0} images");
        int bad = Array.FindIndex(labels.Values, v => v >= Classes.Count);
        if (bad >= 0)
            throw new DatasetException($"{labelsPath}: label {labels.Values[bad]} at index {bad} is not a class (expected 0..{Classes.Count - 1})");
        return (images, labels);
    }

    /// <summary>
    /// Writes the set as folders per class: <c>outDir/train/&lt;class&gt;/&lt;index&gt;.png</c> (the 60,000 training
    /// images) and <c>outDir/test/&lt;class&gt;/&lt;index&gt;.png</c> (the 10,000 test images), index being the position
    /// in the idx file, each a 28x28 grayscale PNG of the file's values. Existing files of the same name are
    /// overwritten; others are left alone.
    /// </summary>
    /// <exception cref="DatasetException">A source file is missing or broken (the message names it and says why).</exception>
    public static ImageFolderExport Export(string outDir, string fromDir = DefaultSource)
    {
        // Read all four before writing anything, so a broken test file does not leave half an export.
        var train = Load(fromDir, "train");
        var test = Load(fromDir, "t10k");
        string trainDir = Path.Combine(outDir, "train"), testDir = Path.Combine(outDir, "test");
        return new ImageFolderExport(trainDir, testDir, Write(train, trainDir), Write(test, testDir));
    }

    private static int[] Write((IdxArray Images, IdxArray Labels) split, string dir) =>
        ImageFolderExport.WriteSplit(dir, Classes, Enumerable.Range(0, split.Images.Count).ToArray(), i => split.Labels.Values[i],
            i => ImageEncoder.EncodeGrayPng(split.Images.Item(i), Side, Side));

    private static string? Find(string dir, string name) =>
        new[] { Path.Combine(dir, name + ".gz"), Path.Combine(dir, name) }.FirstOrDefault(File.Exists);

    private static string Require(string dir, string name)
    {
        if (!Directory.Exists(dir))
            throw new DatasetException($"Fashion-MNIST folder {dir} not found (Debian's {DebianPackage} package installs the idx files in {DefaultSource})");
        return Find(dir, name)
            ?? throw new DatasetException($"{Path.Combine(dir, name + ".gz")}: not found (nor {name}); Fashion-MNIST needs {string.Join(", ", new[] { "train", "t10k" }.SelectMany(s => new[] { FileNames(s).Images, FileNames(s).Labels }).Select(n => n + ".gz"))} in {dir}");
    }
}
