using SharpVision.Data.Detection;
using SharpVision.Tests.Data;
using static SharpVision.Tests.Data.Detection.DetectionFixtures;

namespace SharpVision.Tests.Data.Detection;

public sealed class FormatRoundTripTests
{
    [Fact]
    public void Voc_read_like_voc_annotation_py_skips_difficult_and_unknown_classes_and_reads_fractions()
    {
        // Given a hand-made VOC folder with a difficult dog, an unlisted class and a fractional box
        using var dir = new TempDir();
        string voc = Path.Combine(dir.Path, "VOC2007");
        Directory.CreateDirectory(Path.Combine(voc, "JPEGImages"));
        Png(Path.Combine(voc, "JPEGImages", "000001.jpg"), 100, 80);
        Png(Path.Combine(voc, "JPEGImages", "000002.jpg"), 100, 80);
        dir.Write("VOC2007/Annotations/000001.xml", VocXml("000001.jpg", 100, 80,
            ("cat", 0, "10", "20", "50", "60"), ("dog", 1, "1", "2", "3", "4"), ("zebra", 0, "5", "5", "9", "9")));
        dir.Write("VOC2007/Annotations/000002.xml", VocXml("000002.jpg", 100, 80, ("dog", 0, "12.5", "3", "40", "70.5")));
        dir.Write("VOC2007/ImageSets/Main/train.txt", "000002\n");
        dir.Write("VOC2007/ImageSets/Main/val.txt", "000001\n");

        // When read with the class list, difficult skipped, sets train then val
        var data = SharpVision.Data.Detection.VocXml.ReadFolder(voc, ["cat", "dog"], ["train", "val"], skipDifficult: true);

        // Then the set order is kept, the difficult dog and the zebra are skipped and said so
        Assert.Equal(["000002.jpg", "000001.jpg"], data.Samples.Select(s => Path.GetFileName(s.ImagePath)));
        Assert.Equal([new BoxLabel(12.5f, 3, 40, 70.5f, 1)], data.Samples[0].Boxes);
        Assert.Equal([new BoxLabel(10, 20, 50, 60, 0)], data.Samples[1].Boxes);
        Assert.Equal((100, 80), (data.Samples[1].Width, data.Samples[1].Height));
        Assert.Equal([IssueKind.SkippedDifficult, IssueKind.UnknownClass], data.Issues.Select(i => i.Kind));
        Assert.Contains("zebra", data.Issues[1].Message);
        Assert.True(data.Issues[1].Where.Line > 1); // the <object> element's line in the XML

        // And kept as a flagged box when difficult objects are not skipped
        var all = SharpVision.Data.Detection.VocXml.ReadFolder(voc, ["cat", "dog"]);
        Assert.Contains(all.Samples.SelectMany(s => s.Boxes), b => b.Difficult && b.ClassId == 1);
    }

    [Fact]
    public void Lines_to_voc_to_coco_to_yolo_and_back_keep_every_box()
    {
        // Given real images and boxes with fractional coordinates
        using var dir = new TempDir();
        Png(Path.Combine(dir.Path, "img", "a.png"), 64, 48);
        Png(Path.Combine(dir.Path, "img", "b c.png"), 40, 50);
        var original = new DetectionDataset(
        [
            new DetectionSample(Path.Combine(dir.Path, "img", "a.png"), [new BoxLabel(1, 2, 30, 40, 0), new BoxLabel(10.5f, 5, 63, 47, 2)]),
            new DetectionSample(Path.Combine(dir.Path, "img", "b c.png"), [new BoxLabel(0, 0, 40, 50, 1)]),
        ], ["circle", "square", "triangle"], [], DetectionFormat.Lines, "test");

        // When converted through every format
        string lines = Path.Combine(dir.Path, "lines", "train.txt");
        AnnotationLines.Write(original, lines);
        var fromLines = AnnotationLines.Read(lines, original.Classes);
        SharpVision.Data.Detection.VocXml.WriteFolder(fromLines, Path.Combine(dir.Path, "voc"));
        var fromVoc = DetectionData.Open(Path.Combine(dir.Path, "voc"));
        string coco = Path.Combine(dir.Path, "coco", "ann.json");
        CocoJson.Write(fromVoc, coco);
        var fromCoco = CocoJson.Read(coco);
        Assert.Empty(YoloTxt.Write(fromCoco, Path.Combine(dir.Path, "yolo")));
        var fromYolo = DetectionData.Open(Path.Combine(dir.Path, "yolo"));

        // Then boxes, classes and sizes survive (YOLO within float tolerance of its normalisation)
        foreach (var d in new[] { fromLines, fromVoc, fromCoco, fromYolo })
        {
            Assert.Equal(original.Classes, d.Classes);
            Assert.Empty(d.Issues);
            Assert.Equal(2, d.Samples.Count);
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(original.Samples[i].Boxes.Count, d.Samples[i].Boxes.Count);
                for (int j = 0; j < original.Samples[i].Boxes.Count; j++)
                {
                    var (e, a) = (original.Samples[i].Boxes[j], d.Samples[i].Boxes[j]);
                    Assert.Equal(e.ClassId, a.ClassId);
                    Assert.Equal(e.X1, a.X1, 0.01f);
                    Assert.Equal(e.Y1, a.Y1, 0.01f);
                    Assert.Equal(e.X2, a.X2, 0.01f);
                    Assert.Equal(e.Y2, a.Y2, 0.01f);
                }
            }
        }
        Assert.Equal((40, 50), (fromCoco.Samples[1].Width, fromCoco.Samples[1].Height));
        // COCO fields: area = w*h, categories id = class index + 1
        string json = File.ReadAllText(coco);
        Assert.Contains("\"area\": 1102", json);
        Assert.Contains("\"category_id\": 3", json);
        Assert.Equal("1 0.5 0.5 1 1\n", File.ReadAllText(Path.Combine(dir.Path, "yolo", "labels", "b c.txt")));
    }

    [Fact]
    public void Yolo_reader_scales_normalised_centres_by_the_image_header_size()
    {
        using var dir = new TempDir();
        Png(Path.Combine(dir.Path, "images", "train", "x.png"), 200, 100);
        Png(Path.Combine(dir.Path, "images", "train", "background.png"), 20, 10);
        dir.Write("labels/train/x.txt", "1 0.5 0.5 0.2 0.4\r\n\r\n0 0.1 0.1 0.3 0.1 0.3 0.3\nbad 0.1 0.1 0.1 0.1\n");

        var data = YoloTxt.Read(dir.Path, ["a", "b"]);

        var x = data.Samples.Single(s => s.ImagePath.EndsWith("x.png", StringComparison.Ordinal));
        Assert.Equal(1, x.Boxes[0].ClassId);
        Assert.Equal([80f, 30f, 120f, 70f], new[] { x.Boxes[0].X1, x.Boxes[0].Y1, x.Boxes[0].X2, x.Boxes[0].Y2 }.Select(v => MathF.Round(v, 3)));
        Assert.Equal(20, x.Boxes[1].X1, 0.001f); // polygon (0.1,0.1) (0.3,0.1) (0.3,0.3) -> its bounding box
        Assert.Equal(30, x.Boxes[1].Y2, 0.001f);
        Assert.Empty(data.Samples.Single(s => s.ImagePath.EndsWith("background.png", StringComparison.Ordinal)).Boxes);
        var issue = Assert.Single(data.Issues);
        Assert.Equal(4, issue.Where.Line);
    }
}
