using System.Text.Json;
using SharpVision.Imaging;
using Sv = SharpVision.Tests.Cli.Cli;
using SharpVision.Tests.TestSupport;

namespace SharpVision.Tests.Faults;

/// <summary>
/// The bad-image corpus (<see cref="BadImages"/>) mixed into a folder-per-class training set: <c>train</c>,
/// <c>evaluate</c> and <c>predict</c> skip exactly the broken files, each with its path and reason, use every
/// odd-but-valid one, count the skips in their summary and exit 0.
/// </summary>
[Collection("Console")]
public sealed class BadImageCorpusTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-badimg");
    private readonly string _data;
    private readonly IReadOnlyDictionary<string, string> _corpus;

    public BadImageCorpusTests()
    {
        // Given 6 good images per class, with the whole corpus (tinted blue) inside the "blue" folder
        _data = TestImages.WriteFolders(Path.Combine(_dir, "data"), perClass: 6);
        _corpus = BadImages.Write(Path.Combine(_data, "blue"), tint: TestImages.Classes[0].Colour);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private HashSet<string> BrokenPaths => BadImages.Broken.Select(b => _corpus[b.Name]).ToHashSet();

    /// <summary>The "  path: reason" lines naming corpus files, as path -> reason.</summary>
    private Dictionary<string, string> ListedSkips(string text, string prefix)
    {
        var listed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            if (!line.StartsWith(prefix, StringComparison.Ordinal)) continue;
            string rest = line[prefix.Length..];
            foreach (var path in _corpus.Values)
                if (rest.StartsWith(path + ": ", StringComparison.Ordinal))
                    listed[path] = rest[(path.Length + 2)..];
        }
        return listed;
    }

    private void AssertSkippedExactlyTheBrokenFiles(Dictionary<string, string> listed)
    {
        Assert.Equal(BrokenPaths.Order(), listed.Keys.Order());
        foreach (var b in BadImages.Broken)
            Assert.StartsWith(b.Reason!, listed[_corpus[b.Name]]);
    }

    [Fact]
    public void Train_skips_each_broken_file_with_path_and_reason_and_uses_the_valid_odd_ones()
    {
        // When a tiny model trains on every file (no validation split, so every file is a training file)
        string run = Path.Combine(_dir, "run");
        var r = Sv.Run("train", _data, "--model", "minicnn", "--img-size", "16", "--epochs", "1", "--batch", "8",
            "--val-split", "0", "--workers", "1", "--out", run);

        // Then it finishes, says how many were skipped and lists exactly the broken files with their reasons
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        int broken = BadImages.Broken.Count();
        Assert.Contains($"Found {12 + BadImages.All.Count} images belonging to 2 classes", r.Out);
        Assert.Contains($"{broken} unreadable training image(s) were skipped", r.Out);
        AssertSkippedExactlyTheBrokenFiles(ListedSkips(r.Out, "  "));
        Assert.True(File.Exists(Path.Combine(run, "weights", "best.svmodel")));
    }

    [Fact]
    public void Evaluate_and_predict_skip_each_broken_file_and_score_the_valid_odd_ones()
    {
        // Given a model trained on good images only
        string good = TestImages.WriteFolders(Path.Combine(_dir, "good"), perClass: 6, seed: 1);
        string run = Path.Combine(_dir, "run");
        var train = Sv.Run("train", good, "--model", "minicnn", "--img-size", "16", "--epochs", "1", "--val-split", "0", "--out", run);
        Assert.True(train.ExitCode == 0, train.Error + train.Out);

        // When evaluating on the mixed set
        string evalDir = Path.Combine(_dir, "eval");
        var eval = Sv.Run("evaluate", run, _data, "--out", evalDir, "--top-losses", "0");

        // Then every broken file is listed as skipped with its reason, the rest are scored, and the count is reported
        Assert.True(eval.ExitCode == 0, eval.Error + eval.Out);
        AssertSkippedExactlyTheBrokenFiles(ListedSkips(eval.Out, "skipped "));
        int broken = BadImages.Broken.Count(), valid = BadImages.Valid.Count();
        Assert.Contains($"({broken} unreadable, skipped)", eval.Out);
        using (var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(evalDir, "metrics.json"))))
        {
            Assert.Equal(broken, metrics.RootElement.GetProperty("skipped").GetInt32());
            Assert.Equal(12 + valid, metrics.RootElement.GetProperty("images").GetInt32());
        }
        Assert.Equal(BrokenPaths.Order(), ListedSkips(File.ReadAllText(Path.Combine(evalDir, "report.txt")), "  ").Keys.Order());

        // When predicting the corpus folder
        var predict = Sv.Run("predict", run, Path.Combine(_data, "blue"), "--out", Path.Combine(_dir, "preds.csv"));

        // Then the valid odd files (and the good ones) are predicted, the broken ones listed on stderr
        Assert.True(predict.ExitCode == 0, predict.Error + predict.Out);
        Assert.Contains($"{broken} unreadable file(s), not predicted:", predict.Error);
        AssertSkippedExactlyTheBrokenFiles(ListedSkips(predict.Error, "  "));
        var predicted = File.ReadAllLines(Path.Combine(_dir, "preds.csv")).Skip(1).Select(l => l.Split(',')[0]).ToHashSet();
        Assert.Equal(6 + valid, predicted.Count);
        Assert.All(BadImages.Valid, b => Assert.Contains(_corpus[b.Name], predicted));
        Assert.DoesNotContain(predicted, BrokenPaths.Contains);
    }

    [Fact]
    public void Valid_odd_files_decode_to_their_tint_and_broken_ones_fail_with_the_listed_reason()
    {
        // The corpus itself: what each file must decode to, independent of any command
        var tint = TestImages.Classes[0].Colour;
        foreach (var b in BadImages.All)
        {
            string path = _corpus[b.Name];
            if (b.Usable)
            {
                RgbImage image = ImageDecoder.Decode(path);
                var (r, g, bl) = image[0, image.Height - 1];
                Assert.True(Math.Abs(r - tint.R) <= 3 && Math.Abs(g - tint.G) <= 3 && Math.Abs(bl - tint.B) <= 3, $"{b.Name}: {(r, g, bl)}");
            }
            else
            {
                var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(path));
                Assert.Equal(path, e.Path);
                Assert.StartsWith(b.Reason!, e.Reason);
            }
        }
        Assert.Equal((16, 24), (ImageDecoder.Decode(_corpus["exif-rotated.jpg"]).Width, ImageDecoder.Decode(_corpus["exif-rotated.jpg"]).Height));
        Assert.Equal(1, ImageDecoder.Decode(_corpus["one-pixel.png"]).Width);
    }
}
