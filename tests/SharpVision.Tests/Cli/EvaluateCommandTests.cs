using System.Text.Json;
using SharpVision.Imaging;
using SharpVision.Tests.Reports;

namespace SharpVision.Tests.Cli;

[Collection("Console")]
public class EvaluateCommandTests(CliFixture fx)
{
    /// <summary>Outputs are kept (not deleted) so the PNGs can be looked at after a run.</summary>
    private static string OutDir(string name)
    {
        string dir = Path.Combine(Path.GetTempPath(), "sharpvision-cli-tests", name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        return dir;
    }

    /// <summary>DIR/cat (4 + 1 mislabelled dog), DIR/dog, DIR/fox (4 each), DIR/owl (2, unknown to the model), one corrupt cat file.</summary>
    private string FolderSet(string name)
    {
        string dir = Path.Combine(fx.Root, name);
        string[] classes = ["cat", "dog", "fox"];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 4; i++)
            {
                Directory.CreateDirectory(Path.Combine(dir, classes[c]));
                // Different sizes and formats: evaluation resizes whatever it gets.
                var img = CliFixture.Image(c, 50 * c + i, 40 + 8 * i, 36);
                if (i % 2 == 0) ImageEncoder.SavePng(img, Path.Combine(dir, classes[c], $"{classes[c]}{i}.png"));
                else ImageEncoder.SaveJpeg(img, Path.Combine(dir, classes[c], $"{classes[c]}{i}.jpg"));
            }
        Directory.CreateDirectory(Path.Combine(dir, "owl"));
        for (int i = 0; i < 2; i++) ImageEncoder.SavePng(CliFixture.Image(0, 900 + i), Path.Combine(dir, "owl", $"owl{i}.png"));
        File.WriteAllText(Path.Combine(dir, "cat", "broken.jpg"), "not a jpeg");
        // A dog photo filed under cat: the model calls it dog, so it tops the losses with a red caption.
        ImageEncoder.SavePng(CliFixture.Image(1, 999), Path.Combine(dir, "cat", "mislabelled.png"));
        return dir;
    }

    [Fact]
    public void Json_holds_metrics_and_reports_unknown_labels_and_unreadable_files()
    {
        // Given a folder-per-class test set with an unknown class folder and a corrupt file
        string data = FolderSet("eval-folders");
        string outDir = OutDir("evaluate-folders");

        // When evaluated with --json
        var r = Cli.Run("evaluate", fx.ThreeClassModel, data, "--out", outDir, "--json", "--top-losses", "6", "--workers", "0");

        // Then stdout is one JSON object with the metrics, consistent with its own confusion matrix
        Assert.True(r.ExitCode == 0, r.Error);
        string line = Assert.Single(r.Out.Split('\n'), l => l.StartsWith('{'));
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        Assert.Equal(["cat", "dog", "fox"], root.GetProperty("classes").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal(13, root.GetProperty("images").GetInt32());
        Assert.Equal(1, root.GetProperty("skipped").GetInt32());
        Assert.Equal(2, root.GetProperty("unknown_labels").GetInt32());
        var matrix = root.GetProperty("confusion_matrix").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        Assert.Equal([5, 4, 4], matrix.Select(row => row.Sum()).ToArray()); // rows = actual class
        Assert.Equal(1, matrix[0][1]); // the dog filed under cat
        double diagonal = matrix[0][0] + matrix[1][1] + matrix[2][2];
        Assert.Equal(diagonal / 13, root.GetProperty("accuracy").GetDouble(), 12);
        Assert.True(root.GetProperty("accuracy").GetDouble() >= 0.75, $"the trained model should get most colour-coded images right: {line}");
        Assert.True(root.GetProperty("loss").GetDouble() > 0);
        Assert.Equal(3, root.GetProperty("top_k").GetInt32()); // 5 clamped to 3 classes
        Assert.Equal(1.0, root.GetProperty("top_k_accuracy").GetDouble());
        foreach (var name in new[] { "cat", "dog", "fox" })
        {
            var m = root.GetProperty("per_class").GetProperty(name);
            Assert.Equal(name == "cat" ? 5 : 4, m.GetProperty("support").GetInt32());
            foreach (var key in new[] { "precision", "recall", "f1" }) Assert.InRange(m.GetProperty(key).GetDouble(), 0, 1);
        }
        // ... the unknown images and the corrupt file are named on stderr and in report.txt
        Assert.Contains("2 images not evaluated", r.Error);
        Assert.Contains("owl0.png", r.Error);
        Assert.Contains("broken.jpg", r.Error);
        string report = File.ReadAllText(Path.Combine(outDir, "report.txt"));
        Assert.Contains("owl1.png  (label 'owl')", report);
        Assert.Contains("broken.jpg", report);
        Assert.Contains("weighted avg", report);
        Assert.Contains("accuracy", report);
        // ... and the plots are real images
        using (var cm = new PngProbe(Path.Combine(outDir, "confusion_matrix.png")))
        {
            Assert.True(cm.Width > 400 && cm.Height > 200, $"{cm.Width}x{cm.Height}");
            Assert.True(cm.DarkPixels(0, 0, cm.Width, cm.Height) > 500, "confusion matrix has no text");
        }
        using (var tl = new PngProbe(Path.Combine(outDir, "top_losses.png")))
        {
            // 6 tiles in 4 columns of 160 px + 8 px gaps: 4 * 168 + 8 wide.
            Assert.Equal(4 * 168 + 8, tl.Width);
            Assert.True(tl.DistinctColours() > 50, "top losses shows no images");
        }
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")));
        Assert.Equal(root.GetProperty("accuracy").GetDouble(), metrics.RootElement.GetProperty("accuracy").GetDouble());
    }

    [Fact]
    public void Filename_labelled_set_is_evaluated_and_unknown_labels_are_listed()
    {
        // Given a flat folder of cat.N / dog.N files plus two horse.N files the binary model does not know
        string dir = Path.Combine(fx.Root, "eval-filenames");
        Directory.CreateDirectory(dir);
        for (int i = 0; i < 5; i++)
        {
            ImageEncoder.SaveJpeg(CliFixture.Image(0, 300 + i), Path.Combine(dir, $"cat.{i}.jpg"));
            ImageEncoder.SaveJpeg(CliFixture.Image(1, 400 + i), Path.Combine(dir, $"dog.{i}.jpg"));
        }
        for (int i = 0; i < 2; i++) ImageEncoder.SaveJpeg(CliFixture.Image(2, 500 + i), Path.Combine(dir, $"horse.{i}.jpg"));
        string outDir = OutDir("evaluate-filenames");

        // When evaluated without --json
        var r = Cli.Run("evaluate", fx.BinaryModel, dir, "--layout", "filenames", "--out", outDir, "--workers", "0");

        // Then the human report is printed, horses are reported, and the output folder is named at the end
        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        Assert.Contains("images 10", r.Out);
        Assert.Contains("2 with labels the model does not know", r.Out);
        Assert.Contains("'horse' (2)", r.Out);
        Assert.Contains("horse.0.jpg", r.Out);
        Assert.Contains("macro avg", r.Out);
        Assert.EndsWith($"Results saved to {outDir}", r.Out.TrimEnd());
        Assert.True(File.Exists(Path.Combine(outDir, "confusion_matrix.png")));
        Assert.True(File.Exists(Path.Combine(outDir, "top_losses.png")));
    }

    [Fact]
    public void Bad_layout_is_refused_with_the_allowed_values_and_exit_code_1()
    {
        var r = Cli.Run("evaluate", fx.BinaryModel, fx.Root, "--layout", "folder");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--layout must be one of auto, folders, filenames, csv. Received: --layout=folder", r.Error);
    }

    [Fact]
    public void A_set_with_only_unknown_labels_is_an_error_naming_the_model_classes()
    {
        string dir = Path.Combine(fx.Root, "eval-only-unknown");
        Directory.CreateDirectory(Path.Combine(dir, "owl"));
        ImageEncoder.SavePng(CliFixture.Image(0, 1), Path.Combine(dir, "owl", "a.png"));

        var r = Cli.Run("evaluate", fx.BinaryModel, dir, "--out", OutDir("evaluate-unknown"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no image in", r.Error);
        Assert.Contains("(cat, dog)", r.Error);
        Assert.Contains("1 image not evaluated", r.Out);
    }
}
