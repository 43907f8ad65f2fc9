using SharpVision.Imaging;
using SharpVision.Reports;

namespace SharpVision.Tests.Reports;

public class ImageGridTests
{
    // An 8x8 "digit": a white vertical bar on black, with one red marker pixel at (0, 0).
    private static RgbImage Digit()
    {
        var img = new RgbImage(8, 8);
        for (int y = 1; y < 7; y++) { img[3, y] = (255, 255, 255); img[4, y] = (255, 255, 255); }
        img[0, 0] = (255, 0, 0);
        return img;
    }

    private static RgbImage Gradient(int w, int h)
    {
        var img = new RgbImage(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) img[x, y] = ((byte)(255 * x / w), (byte)(255 * y / h), 128);
        return img;
    }

    [Fact]
    public void Tiny_images_are_scaled_with_nearest_so_pixels_stay_crisp()
    {
        // Given one 8x8 image in a 96 px tile (12x); When drawn; Then the marker pixel fills a sharp 12x12 block.
        var png = PngProbe.NewPath("grid-single-digit.png");
        ImageGrid.Save(new[] { (Digit(), "7") }, png, columns: 4, tileSize: 96);

        using var probe = new PngProbe(png);
        Assert.Equal(96 + 16, probe.Width); // one column: gap + tile + gap
        // Tile starts at (8, 8); block (0,0) covers 8..19 in both axes.
        Assert.Equal((byte)255, probe[8, 8].Red);
        Assert.Equal((byte)0, probe[8, 8].Green);
        Assert.Equal((byte)255, probe[19, 19].Red);
        Assert.Equal((byte)0, probe[19, 19].Green);
        Assert.Equal((byte)0, probe[20, 20].Red); // next source pixel is black, no blending
    }

    [Fact]
    public void Grid_has_rows_and_columns_and_captions_with_wrong_ones_in_red()
    {
        var tiles = new List<GridTile>();
        for (int i = 0; i < 10; i++)
        {
            bool wrong = i % 3 == 0;
            tiles.Add(new GridTile(i % 2 == 0 ? Digit() : Gradient(40, 30), $"{i} / {(wrong ? i + 1 : i)} / 0.{90 - i}",
                wrong ? CaptionColor.Red : null));
        }
        var png = PngProbe.NewPath("grid-predictions.png");
        ImageGrid.Save(tiles, png, columns: 4, tileSize: 112, title: "Predictions (red = wrong)");

        using var probe = new PngProbe(png);
        Assert.Equal(4 * (112 + 8) + 8, probe.Width);
        // Caption of tile 0 (wrong) is red. Layout: title (~30 px), tile 0 image at y ~38..150 whose only red is
        // the 14x14 marker at its top, caption just below it; rows from 60 to 175 see the caption only.
        int redPixels = 0;
        for (int y = 60; y < 175; y++)
            for (int x = 8; x < 120; x++)
            {
                var c = probe[x, y];
                if (c.Red > 150 && c.Green < 80 && c.Blue < 80) redPixels++;
            }
        Assert.True(redPixels > 30, $"red caption pixels: {redPixels}");
        // Tile 1's caption (right) is dark, not red.
        Assert.True(probe.DarkPixels(128, 150, 240, 175) > 30, "dark caption missing");
        Assert.True(probe.DarkPixels(0, 0, probe.Width, 30) > 100, "title text missing");
        Assert.True(probe.DistinctColours() > 50);
    }

    [Fact]
    public void Save_rejects_empty_tiles_and_bad_columns()
    {
        Assert.Throws<ArgumentException>(() => ImageGrid.Save(Array.Empty<GridTile>(), PngProbe.NewPath("x.png")));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageGrid.Save(new GridTile[] { new(Digit(), "a") }, PngProbe.NewPath("x.png"), columns: 0));
    }
}
