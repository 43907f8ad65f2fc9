using SharpVision.Data.Detection;
using SharpVision.Tests.Data;
using SharpVision.Tests.Data.Detection;
using static SharpVision.Tests.Data.Detection.DetectionFixtures;

namespace SharpVision.Tests.Cli;

[Collection("Console")]
public sealed class DetectionCommandsTests
{
    [Fact]
    public void Convert_voc_writes_voc_annotation_lines_without_difficult_or_unlisted_objects_and_says_so()
    {
        // Given a VOC folder with a difficult object and an unlisted class
        using var dir = new TempDir();
        Png(Path.Combine(dir.Path, "VOC", "JPEGImages", "000001.jpg"), 100, 80);
        Png(Path.Combine(dir.Path, "VOC", "JPEGImages", "000002.jpg"), 100, 80);
        dir.Write("VOC/Annotations/000001.xml", VocXml("000001.jpg", 100, 80, ("dog", 0, "10", "20", "50", "60"), ("cat", 1, "1", "2", "3", "4")));
        dir.Write("VOC/Annotations/000002.xml", VocXml("000002.jpg", 100, 80, ("cat", 0, "5", "6", "7", "8"), ("zebra", 0, "1", "1", "2", "2")));
        dir.Write("VOC/ImageSets/Main/train.txt", "000001\n000002\n");
        string classes = dir.Write("classes.txt", "cat\ndog\n");
        string output = Path.Combine(dir.Path, "train.txt");

        // When converted like voc_annotation.py
        var r = Cli.Run("convert", "voc", Path.Combine(dir.Path, "VOC"), "--classes", classes, "--out", output, "--sets", "train");

        // Then one line per image, `path x1,y1,x2,y2,cls`, relative to the output file
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("VOC/JPEGImages/000001.jpg 10,20,50,60,1\nVOC/JPEGImages/000002.jpg 5,6,7,8,0\n", File.ReadAllText(output));
        Assert.Contains("Wrote 2 images, 2 boxes", r.Out);
        Assert.Contains("1 difficult objects skipped", r.Out);
        Assert.Contains("1 objects skipped: class not in the class list", r.Out);
        Assert.Contains("000002.xml:", r.Out);
    }

    [Fact]
    public void Convert_lines_to_coco_then_coco_to_lines_gives_back_the_same_lines()
    {
        using var dir = new TempDir();
        Png(Path.Combine(dir.Path, "a.png"), 50, 40);
        string lines = dir.Write("in/train.txt", "../a.png 1,2,30,35.5,1\n");
        dir.Write("in/classes.txt", "x\ny\n");

        var toCoco = Cli.Run("convert", "lines", lines, "--to", "coco", "--out", Path.Combine(dir.Path, "coco", "ann.json"));
        var back = Cli.Run("convert", "coco", Path.Combine(dir.Path, "coco", "ann.json"), "--to", "lines", "--out", Path.Combine(dir.Path, "out", "train.txt"));

        Assert.Equal((0, 0), (toCoco.ExitCode, back.ExitCode));
        Assert.Equal("../a.png 1,2,30,35.5,1\n", File.ReadAllText(Path.Combine(dir.Path, "out", "train.txt")));
        Assert.Equal(["x", "y"], File.ReadAllLines(Path.Combine(dir.Path, "out", "classes.txt")));
    }

    [Fact]
    public void Convert_with_an_unknown_target_format_names_the_allowed_ones()
    {
        var r = Cli.Run("convert", "lines", "x.txt", "--to", "yaml", "--out", "y");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--to must be one of lines, voc, yolo, coco. Received: --to=yaml", r.Error);
    }

    [Fact]
    public void Detect_check_lists_planted_faults_with_file_and_line_and_exits_0()
    {
        using var dir = new TempDir();
        string file = DetectionCheckTests.PlantFaults(dir);

        var r = Cli.Run("detect", "check", file);

        Assert.Equal(0, r.ExitCode);
        foreach (string expected in new[]
        {
            $"{file}:2 (box 1): 20,10,10,20,0: x2 < x1",
            $"{file}:3 (box 1): -5,10,20,20,1: negative coordinate",
            $"{file}:4 (box 1): 90,10,120,20,0: outside the 100x50 image",
            $"{file}:5 (box 1): 10,10,10,20,0: width is 0",
            $"{file}:6 (box 1): 10,10,20,20,7: class id 7 is outside 0..1 (2 classes)",
            $"{file}:7 (box 2): 1,1,9,9,1 repeats box 1",
            $"{file}:8 (box 1): '1,1,zz,9,1': x2 'zz' is not a number",
            $"{file}:9: image not found: ",
            $"{file}:10: not a readable image: ",
        })
            Assert.Contains(expected, r.Out);
        Assert.Matches(@"\n +0 cat +6\n +1 dog +4\n +7 <id 7: not in classes> +1\n", r.Out.Replace("\r\n", "\n"));
    }

    [Fact]
    public void Detect_check_without_any_label_exits_1_and_says_what_lines_should_look_like()
    {
        using var dir = new TempDir();
        string file = dir.Write("train.txt", "a.jpg\n\nb.jpg\n");

        var r = Cli.Run("detect", "check", file);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"no labels found in {file}: 2 images but 0 boxes", r.Error);
        Assert.Contains("expected lines like `path x1,y1,x2,y2,class`", r.Error);
    }

    [Fact]
    public void Make_shapes_then_anchors_writes_a_yolo_anchors_file_and_the_mean_iou()
    {
        using var dir = new TempDir();
        string data = Path.Combine(dir.Path, "shapes");
        string anchors = Path.Combine(dir.Path, "anchors.txt");

        var make = Cli.Run("datasets", "make-shapes", "--out", data, "--images", "12", "--img-size", "128", "--seed", "3");
        var check = Cli.Run("detect", "check", data);
        var r = Cli.Run("anchors", Path.Combine(data, "train.txt"), "--clusters", "3", "--img-size", "416", "--out", anchors);

        Assert.Equal((0, 0, 0), (make.ExitCode, check.ExitCode, r.ExitCode));
        Assert.Contains("No problems found.", check.Out);
        string text = File.ReadAllText(anchors).Trim();
        Assert.Matches(@"^\d+,\d+, \d+,\d+, \d+,\d+$", text);
        Assert.Contains(text, r.Out);
        Assert.Matches(@"Mean IoU: \d+\.\d\d%", r.Out);
        // 128-px images letterboxed to 416: every anchor is 416/128 = 3.25 times a box size, so at least 3.25 * 8
        Assert.All(text.Split(", "), a => Assert.True(int.Parse(a.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture) >= 26, a));
    }
}
