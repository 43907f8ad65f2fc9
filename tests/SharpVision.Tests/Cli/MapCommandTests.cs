using System.Text.Json;
using SharpVision.Tests.Reports;

namespace SharpVision.Tests.Cli;

[Collection("Console")]
public class MapCommandTests
{
    private static string NewDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "sv-map-cli", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public void Map_json_reports_coco_and_voc_numbers_and_writes_a_pr_curve_per_class()
    {
        // Given two classes as annotation lines: cat found with a miss ranked between its two hits, dog found
        string dir = NewDir();
        File.WriteAllText(Path.Combine(dir, "gt.txt"), "a.jpg 0,0,9,9,0 20,0,29,9,0 50,50,99,99,1\n");
        File.WriteAllText(Path.Combine(dir, "dt.txt"), "a.jpg 0,0,9,9,0,0.9 60,60,69,69,0,0.8 20,0,29,9,0,0.7 50,50,99,99,1,0.6\n");
        File.WriteAllText(Path.Combine(dir, "classes.txt"), "cat\ndog\nbird\n");
        string outDir = Path.Combine(dir, "out");

        var r = Cli.Run("map", "--gt", Path.Combine(dir, "gt.txt"), "--dt", Path.Combine(dir, "dt.txt"),
            "--classes", Path.Combine(dir, "classes.txt"), "--out", outDir, "--json");

        Assert.True(r.ExitCode == 0, r.Error);
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        foreach (var key in new[] { "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl", "voc07_mAP", "voc12_mAP" })
            Assert.True(root.TryGetProperty(key, out _), key);
        // cat: rec [.5, .5, 1], prec [1, .5, 2/3]: VOC12 5/6, VOC07 28/33; dog: 1 and 1.0000000000000002
        var cat = root.GetProperty("per_class").GetProperty("cat");
        Assert.Equal(5.0 / 6, cat.GetProperty("voc12_AP").GetDouble(), 15);
        Assert.Equal(28.0 / 33, cat.GetProperty("voc07_AP").GetDouble(), 15);
        Assert.Equal(-1, root.GetProperty("per_class").GetProperty("bird").GetProperty("AP").GetDouble());
        Assert.Equal((5.0 / 6 + 1) / 2, root.GetProperty("voc12_mAP").GetDouble(), 15);
        // COCO AP50 for cat: envelope [p, 2/3, 2/3]: 51 thresholds read p, 50 read 2/3
        Assert.Equal((51 + 50 * 2.0 / 3) / 101, cat.GetProperty("AP50").GetDouble(), 14);

        // And the curves: one per class with ground truth, with real ink in the plot area
        Assert.True(File.Exists(Path.Combine(outDir, "metrics.json")));
        Assert.True(File.Exists(Path.Combine(outDir, "report.txt")));
        Assert.False(File.Exists(Path.Combine(outDir, "pr_curves", "pr_bird.png")));
        using var png = new PngProbe(Path.Combine(outDir, "pr_curves", "pr_cat.png"));
        Assert.Equal(640, png.Width);
        Assert.True(png.DistinctColours() > 5, "the PR curve has no coloured lines");
        Assert.True(png.DarkPixels(0, 0, 640, 60) > 100, "the title is missing");
    }

    [Fact]
    public void Map_text_output_prints_the_twelve_coco_lines()
    {
        string dir = NewDir();
        File.WriteAllText(Path.Combine(dir, "gt.txt"), "a.jpg 0,0,9,9,0\n");
        File.WriteAllText(Path.Combine(dir, "dt.txt"), "a.jpg 0,0,9,9,0,0.9\n");

        var r = Cli.Run("map", "--gt", Path.Combine(dir, "gt.txt"), "--dt", Path.Combine(dir, "dt.txt"), "--out", Path.Combine(dir, "out"));

        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Equal(12, r.Out.Split('\n').Count(l => l.Contains("maxDets=")));
        Assert.Contains("class_0", r.Out);
    }

    [Fact]
    public void Map_with_a_bad_line_exits_1_naming_file_and_line()
    {
        string dir = NewDir();
        File.WriteAllText(Path.Combine(dir, "gt.txt"), "a.jpg 0,0,9,9,0\n");
        File.WriteAllText(Path.Combine(dir, "dt.txt"), "a.jpg 0,0,9,9,0,0.9\na.jpg 0,0,9\n");

        var r = Cli.Run("map", "--gt", Path.Combine(dir, "gt.txt"), "--dt", Path.Combine(dir, "dt.txt"), "--out", Path.Combine(dir, "out"));

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("dt.txt:2:", r.Error);
    }

    [Fact]
    public void Map_without_gt_names_the_option()
    {
        var r = Cli.Run("map", "--dt", "x.txt");

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--gt", r.Error);
    }
}
