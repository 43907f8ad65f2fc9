using SharpVision.Data.Detection;
using SharpVision.Tests.Data;

namespace SharpVision.Tests.Data.Detection;

public sealed class AnnotationLinesTests
{
    [Fact]
    public void Path_with_spaces_is_kept_whole_and_its_boxes_are_parsed()
    {
        // Given an image whose folder and name have spaces (keras-yolo3 would split them)
        using var dir = new TempDir();
        dir.Write("my photos/a cat 1.jpg");
        string file = dir.Write("train.txt", "my photos/a cat 1.jpg 10,20,30,40,0 5,6,7,8,1\n");

        // When the lines are read
        var data = AnnotationLines.Read(file);

        // Then the path is whole and both boxes are there
        var s = Assert.Single(data.Samples);
        Assert.Equal(Path.Combine(dir.Path, "my photos", "a cat 1.jpg"), s.ImagePath);
        Assert.Equal([new BoxLabel(10, 20, 30, 40, 0), new BoxLabel(5, 6, 7, 8, 1)], s.Boxes);
        Assert.Empty(data.Issues);
    }

    [Fact]
    public void Crlf_empty_lines_and_fractional_coordinates_are_accepted()
    {
        using var dir = new TempDir();
        string file = dir.Write("train.txt", "a.jpg 1.5,2.25,30,40.75,2\r\n\r\n   \r\nb.jpg\r\nc.jpg 0,0,1e1,10,0\r\n");

        var data = AnnotationLines.Read(file);

        Assert.Equal(["a.jpg", "b.jpg", "c.jpg"], data.Samples.Select(s => Path.GetFileName(s.ImagePath)));
        Assert.Equal(new BoxLabel(1.5f, 2.25f, 30, 40.75f, 2), data.Samples[0].Boxes[0]);
        Assert.Empty(data.Samples[1].Boxes);
        Assert.Equal(new BoxLabel(0, 0, 10, 10, 0), data.Samples[2].Boxes[0]);
        Assert.Equal(new SourceRef(file, 5), data.Samples[2].Source);
        Assert.Empty(data.Issues);
    }

    [Fact]
    public void Non_numeric_field_skips_only_that_box_and_names_file_line_and_field()
    {
        using var dir = new TempDir();
        string file = dir.Write("train.txt", "a.jpg 1,2,3,4,0\nb.jpg 1,2,3,4,0 10,abc,30,40,1 1,2,3,4\nc.jpg 1,2,3,4,x\n");

        var data = AnnotationLines.Read(file);

        // Then b.jpg keeps its good box, and each bad one is reported at its line
        Assert.Equal(3, data.Samples.Count);
        Assert.Single(data.Samples[1].Boxes);
        Assert.Empty(data.Samples[2].Boxes);
        Assert.Collection(data.Issues,
            i => { Assert.Equal(IssueKind.BadField, i.Kind); Assert.Equal(2, i.Where.Line); Assert.Equal("box 2", i.Where.Detail); Assert.Contains("y1 'abc' is not a number", i.Message); },
            i => { Assert.Equal(2, i.Where.Line); Assert.Contains("expected 5 fields", i.Message); },
            i => { Assert.Equal(3, i.Where.Line); Assert.Contains("class 'x' is not an integer", i.Message); });
        Assert.StartsWith($"{file}:2 (box 2):", data.Issues[0].ToString());
    }

    [Fact]
    public void Relative_paths_resolve_against_the_annotation_files_folder_not_the_working_directory()
    {
        using var dir = new TempDir();
        string file = dir.Write("sub/ann.txt", "../img/x.jpg 1,1,2,2,0\n");

        var data = AnnotationLines.Read(file);

        Assert.Equal(Path.Combine(dir.Path, "img", "x.jpg"), data.Samples[0].ImagePath);
    }

    [Fact]
    public void Write_then_read_gives_the_same_paths_and_boxes_with_integers_written_plainly()
    {
        using var dir = new TempDir();
        var samples = new List<DetectionSample>
        {
            new(Path.Combine(dir.Path, "im ages", "a b.jpg"), [new BoxLabel(1, 2, 30, 40, 1), new BoxLabel(0.5f, 1.25f, 3, 4, 0)]),
            new(Path.Combine(dir.Path, "c.jpg"), []),
        };
        var data = new DetectionDataset(samples, ["x", "y"], [], DetectionFormat.Lines, "test");
        string file = Path.Combine(dir.Path, "out.txt");

        AnnotationLines.Write(data, file);
        var back = AnnotationLines.Read(file);

        Assert.Equal("im ages/a b.jpg 1,2,30,40,1 0.5,1.25,3,4,0\nc.jpg\n", File.ReadAllText(file));
        Assert.Equal(samples.Select(s => s.ImagePath), back.Samples.Select(s => s.ImagePath));
        Assert.Equal(samples[0].Boxes, back.Samples[0].Boxes);
    }
}
