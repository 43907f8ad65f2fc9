using SharpVision.Data.Detection;
using SharpVision.Tests.TestSupport;
using Sv = SharpVision.Tests.Cli.Cli;

namespace SharpVision.Tests.Faults;

/// <summary>
/// A keras-yolo3 annotation-lines file full of mistakes (negative, reversed and out-of-image boxes, a class id
/// out of range, a non-numeric field, a missing image, empty lines), written with Windows line endings and with
/// images in a folder whose name has spaces. <c>detect check</c> names each problem with file and line;
/// <c>detect train</c> says what it skips and finishes.
/// <para>
/// Paths with spaces: keras-yolo3 splits a line on every space, so it cannot read them. SharpVision's reader
/// parses from the right instead: trailing tokens shaped like boxes (4-6 comma-separated fields) are boxes and
/// everything before them is the path, spaces included. A malformed box is still box-shaped, so it is reported
/// as a bad box rather than glued onto the path.
/// </para>
/// </summary>
[Collection("Console")]
public sealed class BadAnnotationTests : IDisposable
{
    private readonly string _dir = TestImages.TempDir("sv-badann");
    private readonly string _file;
    private readonly string _classes;

    public BadAnnotationTests()
    {
        // Given 8 64-px shapes images copied into "my images/" (a folder with a space)
        var shapes = ShapesDataset.Generate(Path.Combine(_dir, "shapes"), 8, seed: 3, size: 64, valFraction: 0);
        string images = Path.Combine(_dir, "my images");
        Directory.CreateDirectory(images);
        var good = new List<string>();
        foreach (var line in File.ReadAllLines(shapes.TrainFile))
        {
            int space = line.IndexOf(' ');
            string source = Path.Combine(Path.GetDirectoryName(shapes.TrainFile)!, line[..space]);
            string copy = Path.Combine(images, "shape " + Path.GetFileName(source));
            File.Copy(source, copy);
            good.Add($"my images/{Path.GetFileName(copy)}{line[space..]}");
        }
        // and an annotation file (CRLF) whose lines 3.. each hold one mistake
        string[] lines =
        [
            good[0],                                            // 1 fine, path with spaces
            "",                                                 // 2 empty
            "my images/shape 000002.jpg -5,10,30,40,0",         // 3 negative coordinate
            "my images/shape 000003.jpg 40,40,10,10,1",         // 4 reversed
            "my images/shape 000004.jpg 10,10,500,500,2",       // 5 outside the 64x64 image
            "my images/shape 000005.jpg 10,10,30,30,7",         // 6 class id out of range (3 classes)
            "my images/shape 000006.jpg 10,abc,30,30,0",        // 7 non-numeric field
            "my images/not there.jpg 10,10,30,30,0",            // 8 missing image
            "   ",                                              // 9 blank
            good[6],                                            // 10 fine
            good[7],                                            // 11 fine
        ];
        _file = Path.Combine(_dir, "train set.txt");
        File.WriteAllText(_file, string.Join("\r\n", lines) + "\r\n");
        _classes = shapes.ClassesFile;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Detect_check_names_every_bad_line_with_file_and_line()
    {
        var r = Sv.Run("detect", "check", _file, "--classes", _classes);

        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        string At(int line, int box = 1) => $"{_file}:{line} (box {box}): ";
        // 9 images described (lines 1, 3-8, 10, 11), 8 of them on disk
        Assert.Contains($"{_file} (lines): 9 images, 8 found, 1 missing or unreadable", r.Out);
        Assert.Contains(At(3) + "-5,10,30,40,0: negative coordinate", r.Out);
        Assert.Contains(At(4) + "40,40,10,10,1: x2 < x1", r.Out);
        Assert.Contains(At(5) + "10,10,500,500,2: outside the 64x64 image", r.Out);
        Assert.Contains(At(6) + "10,10,30,30,7: class id 7 is outside 0..2 (3 classes)", r.Out);
        Assert.Contains(At(7) + "'10,abc,30,30,0': y1 'abc' is not a number; box skipped, image kept", r.Out);
        Assert.Contains($"{_file}:8: image not found: {Path.Combine(_dir, "my images", "not there.jpg")}", r.Out);
        // No carriage return leaks into a path or a message, and empty lines are not findings
        Assert.DoesNotContain("\r", r.Out);
        Assert.DoesNotContain($"{_file}:2", r.Out);
        Assert.DoesNotContain($"{_file}:9", r.Out);
        Assert.DoesNotContain($"{_file}:1:", r.Out);
    }

    [Fact]
    public void Detect_check_reads_paths_with_spaces_and_crlf_into_the_right_images_and_boxes()
    {
        var data = AnnotationLines.Read(_file);

        Assert.Equal(9, data.Samples.Count);
        Assert.Equal(Path.Combine(_dir, "my images", "shape 000002.jpg"), data.Samples[1].ImagePath);
        Assert.Equal(new BoxLabel(-5, 10, 30, 40, 0), data.Samples[1].Boxes.Single());
        Assert.Empty(data.Samples[5].Boxes); // the non-numeric box, dropped; its image kept
        Assert.All(data.Samples.Where(s => !s.ImagePath.EndsWith("not there.jpg")), s => Assert.True(File.Exists(s.ImagePath), s.ImagePath));
    }

    [Fact]
    public void Detect_train_skips_the_bad_boxes_and_the_missing_image_with_messages_and_finishes()
    {
        string run = Path.Combine(_dir, "run");
        var r = Sv.Run("detect", "train", _file, "--classes", _classes, "--model", "yolov3-tiny-quarter", "--img-size", "64",
            "--epochs", "1", "--batch", "4", "--workers", "0", "--out", run);

        Assert.True(r.ExitCode == 0, r.Error + r.Out);
        // Reversed and out-of-range boxes dropped, counted and named; the malformed box named; the missing image skipped
        Assert.Contains("(2 unusable boxes dropped)", r.Out);
        Assert.Contains($"{_file}:4 (box 1): box 40,40,10,10,1 dropped for training", r.Out);
        Assert.Contains($"{_file}:6 (box 1): box 10,10,30,30,7 dropped for training (class out of range)", r.Out);
        Assert.Contains($"{_file}:7 (box 1): '10,abc,30,30,0': y1 'abc' is not a number", r.Out);
        Assert.Contains($"skipped unreadable image {Path.Combine(_dir, "my images", "not there.jpg")}: file not found", r.Out);
        Assert.DoesNotContain("\r", r.Out);
        Assert.True(File.Exists(Path.Combine(run, "weights", "best.svmodel")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "results.csv")).Length);
    }
}
