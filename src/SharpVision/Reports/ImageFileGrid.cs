using SharpVision.Imaging;

namespace SharpVision.Reports;

/// <summary>One image file to show in a grid, with its caption (several lines separated by '\n').</summary>
public sealed record ImageFileTile(string Path, string Caption, CaptionColor? Color = null);

/// <summary>
/// An <see cref="ImageGrid"/> of image files: each file is decoded and shrunk to the tile size (keeping its
/// aspect ratio) before drawing, so a grid of large photos stays cheap. A file that cannot be read still gets
/// its tile, grey, with the reason as caption, so the grid's order matches the list it was given.
/// Used for <c>top_losses.png</c> (evaluate) and <c>--grid</c> (predict).
/// </summary>
public static class ImageFileGrid
{
    /// <summary>Decodes the files and draws them with their captions into <paramref name="pngPath"/>.</summary>
    public static void Save(IReadOnlyList<ImageFileTile> tiles, string pngPath, int columns = 4, int tileSize = 160, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        if (tiles.Count == 0) throw new ArgumentException("an image grid needs at least one tile", nameof(tiles));
        if (tileSize < 8) throw new ArgumentOutOfRangeException(nameof(tileSize), $"tileSize must be at least 8, got {tileSize}");
        var grid = new GridTile[tiles.Count];
        for (int i = 0; i < tiles.Count; i++)
        {
            var t = tiles[i];
            try
            {
                grid[i] = new GridTile(Thumbnail(t.Path, tileSize), t.Caption, t.Color);
            }
            catch (ImageDecodeException e)
            {
                grid[i] = new GridTile(Grey(tileSize), $"{Path.GetFileName(t.Path)}\nunreadable: {e.Reason}", CaptionColor.Red);
            }
        }
        ImageGrid.Save(grid, pngPath, columns, tileSize, title);
    }

    /// <summary>The image at <paramref name="path"/> shrunk (never enlarged) to fit a <paramref name="size"/> square.</summary>
    public static RgbImage Thumbnail(string path, int size)
    {
        var image = ImageDecoder.Decode(path, new DecodeOptions { TargetSize = (size, size) });
        float scale = Math.Min((float)size / image.Width, (float)size / image.Height);
        if (scale >= 1) return image; // small images are enlarged by the grid itself (crisp when 4x or more)
        int w = Math.Max(1, (int)Math.Round(image.Width * scale)), h = Math.Max(1, (int)Math.Round(image.Height * scale));
        return Resizer.Resize(image, w, h, Interpolation.Area);
    }

    private static RgbImage Grey(int size)
    {
        var image = new RgbImage(size, size);
        Array.Fill(image.Pixels, (byte)200);
        return image;
    }
}
