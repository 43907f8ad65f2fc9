using SharpVision.Data.Detection;
using SharpVision.Tests.Data;
using static SharpVision.Tests.Data.Detection.DetectionFixtures;

namespace SharpVision.Tests.Data.Detection;

public sealed class DetectionCheckTests
{
    /// <summary>An annotation file with one planted fault per line (line numbers in the comments).</summary>
    internal static string PlantFaults(TempDir dir)
    {
        Png(Path.Combine(dir.Path, "imgs", "a b.png"), 100, 50);
        Png(Path.Combine(dir.Path, "imgs", "ok.png"), 100, 50);
        dir.Write("imgs/broken.jpg", "not an image");
        dir.Write("classes.txt", "cat\r\ndog\r\n");
        return dir.Write("train.txt", string.Join("\r\n",
            "imgs/ok.png 10,10,20,20,0 30,5,60,45,1",   // 1: fine
            "imgs/a b.png 20,10,10,20,0",                // 2: reversed (x2 < x1), path with a space
            "imgs/ok.png -5,10,20,20,1",                 // 3: negative; ok.png described twice
            "imgs/a b.png 90,10,120,20,0",               // 4: outside the 100x50 image
            "imgs/ok.png 10,10,10,20,0",                 // 5: zero width (and ok.png again)
            "imgs/ok.png 10,10,20,20,7",                 // 6: class 7 of 2
            "imgs/ok.png 1,1,9,9,1 1,1,9,9,1",           // 7: duplicate box
            "imgs/ok.png 1,1,zz,9,1",                    // 8: non-numeric
            "imgs/missing.png 1,1,9,9,0",                // 9: missing image
            "imgs/broken.jpg 1,1,9,9,0",                 // 10: unreadable image
            "",
            "imgs/ok.png",                               // 12: no boxes
            ""));
    }

    [Fact]
    public void Check_reports_every_planted_fault_with_its_file_and_line()
    {
        using var dir = new TempDir();
        string file = PlantFaults(dir);

        var report = DetectionCheck.Run(DetectionData.Open(file));

        int LineOf(IssueKind kind) => Assert.Single(report.Issues, i => i.Kind == kind).Where.Line;
        Assert.Equal(2, LineOf(IssueKind.ReversedBox));
        Assert.Equal(5, LineOf(IssueKind.ZeroSizeBox));
        Assert.Equal(6, LineOf(IssueKind.ClassOutOfRange));
        Assert.Equal(7, LineOf(IssueKind.DuplicateBox));
        Assert.Equal(8, LineOf(IssueKind.BadField));
        Assert.Equal(9, LineOf(IssueKind.MissingImage));
        Assert.Equal(10, LineOf(IssueKind.UnreadableImage));
        Assert.Equal([8, 12], report.Issues.Where(i => i.Kind == IssueKind.NoBoxes).Select(i => i.Where.Line)); // 8 lost its only box
        Assert.Equal([3, 4], report.Issues.Where(i => i.Kind == IssueKind.OutOfImage).Select(i => i.Where.Line));
        Assert.Equal(7, report.Issues.Count(i => i.Kind == IssueKind.DuplicateImage)); // ok.png on 3, 5, 6, 7, 8, 12; a b.png on 4
        Assert.All(report.Issues, i => Assert.Equal(file, i.Where.File));
        Assert.Equal(11, report.Images);
        Assert.Equal(9, report.ImagesFound);
        Assert.Equal(11, report.Boxes);
        Assert.Equal(new Dictionary<int, int> { [0] = 6, [1] = 4, [7] = 1 }, report.BoxesPerClass);
        Assert.Contains("outside the 100x50 image", report.ToText());
        Assert.Contains("class id 7 is outside 0..1 (2 classes)", report.ToText());
    }

    [Fact]
    public void A_data_set_without_a_single_box_is_refused_with_the_reason_and_the_expected_shape()
    {
        using var dir = new TempDir();
        string file = dir.Write("train.txt", "a.jpg\nb.jpg 1,x,3,4,0\n");
        var data = AnnotationLines.Read(file);

        var e = Assert.Throws<DatasetException>(data.RequireLabels);

        Assert.Equal($"no labels found in {file}: 2 images but 0 boxes; 1 annotation problems, first: {file}:2 (box 1): '1,x,3,4,0': y1 'x' is not a number; box skipped, image kept (expected lines like `path x1,y1,x2,y2,class`)", e.Message);
        Assert.False(DetectionCheck.Run(data).HasLabels);
    }

    [Fact]
    public void Usable_boxes_drop_reversed_and_out_of_range_classes_and_clip_to_the_image()
    {
        var data = new DetectionDataset(
            [new DetectionSample("x.png", [new BoxLabel(-5, 10, 20, 60, 0), new BoxLabel(5, 5, 1, 9, 0), new BoxLabel(1, 1, 9, 9, 3)], 100, 50)],
            ["a", "b"], [], DetectionFormat.Lines, "t");

        var usable = data.WithUsableBoxes();

        Assert.Equal([new BoxLabel(0, 10, 20, 50, 0)], usable.Samples[0].Boxes);
        Assert.Equal(2, usable.Issues.Count);
    }
}
