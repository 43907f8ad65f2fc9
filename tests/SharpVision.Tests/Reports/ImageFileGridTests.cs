using SharpVision.Imaging;
using SharpVision.Reports;

namespace SharpVision.Tests.Reports;

public class ImageFileGridTests
{
    [Fact]
    public void Files_are_shrunk_into_tiles_and_an_unreadable_file_keeps_its_place_with_the_reason()
    {
        // Given a large photo, a tiny image and a corrupt file
        string dir = Path.Combine(PngProbe.OutputDir, "file-grid");
        Directory.CreateDirectory(dir);
        var big = new RgbImage(800, 600);
        for (int i = 0; i < big.Pixels.Length; i += 3) big.Pixels[i + 2] = 220; // blue
        ImageEncoder.SaveJpeg(big, Path.Combine(dir, "big.jpg"));
        var small = new RgbImage(8, 8);
        Array.Fill(small.Pixels, (byte)30);
        ImageEncoder.SavePng(small, Path.Combine(dir, "small.png"));
        File.WriteAllText(Path.Combine(dir, "bad.png"), "nope");
        string png = PngProbe.NewPath("file-grid.png");

        // When drawn as a grid of 100 px tiles
        ImageFileGrid.Save(
        [
            new(Path.Combine(dir, "big.jpg"), "dog 0.93"),
            new(Path.Combine(dir, "small.png"), "cat 0.51", CaptionColor.Red),
            new(Path.Combine(dir, "bad.png"), "never shown"),
        ], png, columns: 3, tileSize: 100);

        // Then the grid has three tiles: blue photo, dark tiny image, grey placeholder
        using var probe = new PngProbe(png);
        Assert.Equal(3 * 108 + 8, probe.Width);
        var photo = probe[8 + 50, 8 + 50];
        Assert.True(photo.Blue > 180 && photo.Red < 40, $"photo tile centre is {photo}");
        var tiny = probe[116 + 50, 8 + 50];
        Assert.True(tiny.Red < 50, $"tiny tile centre is {tiny}");
        var grey = probe[224 + 50, 8 + 50];
        Assert.Equal((byte)200, grey.Red);
    }

    [Fact]
    public void Thumbnail_never_enlarges_and_keeps_aspect_ratio()
    {
        string dir = Path.Combine(PngProbe.OutputDir, "thumbs");
        Directory.CreateDirectory(dir);
        ImageEncoder.SavePng(new RgbImage(400, 200), Path.Combine(dir, "wide.png"));
        ImageEncoder.SavePng(new RgbImage(20, 10), Path.Combine(dir, "tiny.png"));

        var wide = ImageFileGrid.Thumbnail(Path.Combine(dir, "wide.png"), 100);
        var tiny = ImageFileGrid.Thumbnail(Path.Combine(dir, "tiny.png"), 100);

        Assert.Equal((100, 50), (wide.Width, wide.Height));
        Assert.Equal((20, 10), (tiny.Width, tiny.Height));
    }
}
