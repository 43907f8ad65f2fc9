using SharpVision.Data;
using SharpVision.Tests.Data;
using static SharpVision.Tests.Data.IdxFileTests;

namespace SharpVision.Tests.Cli;

/// <summary><c>sharpvision datasets export digits|fashion-mnist</c> as users type it.</summary>
[Collection("Console")]
public class DatasetsCommandTests
{
    [Fact]
    public void Export_fashion_mnist_from_a_folder_of_idx_files_writes_both_splits()
    {
        // Given the four files with one training and one test image
        using var source = new TempDir();
        using var output = new TempDir();
        foreach (var (split, label) in new[] { ("train", (byte)7), ("t10k", (byte)8) })
        {
            var (images, labels) = FashionMnist.FileNames(split);
            File.WriteAllBytes(Path.Combine(source.Path, images + ".gz"), Gzip(Idx([1, 28, 28], new byte[28 * 28])));
            File.WriteAllBytes(Path.Combine(source.Path, labels), Idx([1], [label])); // plain files are read too
        }

        var r = Cli.Run("datasets", "export", "fashion-mnist", "--out", output.Path, "--from", source.Path);

        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal($"Wrote 1 training images to {Path.Combine(output.Path, "train")} and 1 test images to {Path.Combine(output.Path, "test")}", r.Out.Trim());
        Assert.True(File.Exists(Path.Combine(output.Path, "train", "Sneaker", "0.png")));
        Assert.True(File.Exists(Path.Combine(output.Path, "test", "Bag", "0.png")));
    }

    [Fact]
    public void Export_fashion_mnist_without_its_files_names_the_missing_file_and_exits_1()
    {
        // Given a folder without the idx files
        using var source = new TempDir();
        using var output = new TempDir();

        var r = Cli.Run("datasets", "export", "fashion-mnist", "--out", output.Path, "--from", source.Path);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: {Path.Combine(source.Path, "train-images-idx3-ubyte.gz")}: not found (nor train-images-idx3-ubyte); Fashion-MNIST needs " +
                     $"train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in {source.Path}", r.Error.Trim());
    }

    [Fact]
    public void Export_fashion_mnist_from_a_missing_folder_says_which_package_installs_it()
    {
        var r = Cli.Run("datasets", "export", "fashion-mnist", "--out", "unused", "--from", "/no/such/folder");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("error: Fashion-MNIST folder /no/such/folder not found (Debian's dataset-fashion-mnist package installs the idx files in /usr/share/datasets/fashion-mnist)", r.Error.Trim());
    }

    [Theory]
    [InlineData(new[] { "datasets", "export", "mnist", "--out", "x" }, "error: datasets export NAME must be one of digits, fashion-mnist. Received: datasets export NAME=mnist")]
    [InlineData(new[] { "datasets", "export", "digits", "--out", "x", "--from", "/tmp" }, "error: --from must be left out for digits (they are embedded). Received: --from=/tmp")]
    public void Wrong_name_or_option_names_what_is_allowed(string[] args, string expected)
    {
        var r = Cli.Run(args);

        Assert.Equal(1, r.ExitCode);
        Assert.Equal(expected, r.Error.Trim());
    }
}
