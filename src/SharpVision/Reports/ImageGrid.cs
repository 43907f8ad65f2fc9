using SharpVision.Imaging;
using SkiaSharp;

namespace SharpVision.Reports;

/// <summary>An RGB colour for captions.</summary>
public readonly record struct CaptionColor(byte R, byte G, byte B)
{
    /// <summary>Default caption colour.</summary>
    public static CaptionColor Black => new(20, 20, 20);

    /// <summary>For a wrong prediction.</summary>
    public static CaptionColor Red => new(200, 0, 0);

    /// <summary>For a right prediction, when colouring both.</summary>
    public static CaptionColor Green => new(0, 130, 0);
}

/// <summary>One tile of an <see cref="ImageGrid"/>: an image and the caption drawn under it.</summary>
public readonly record struct GridTile(RgbImage Image, string Caption, CaptionColor? Color = null)
{
    public static implicit operator GridTile((RgbImage Image, string Caption) t) => new(t.Image, t.Caption);

    public static implicit operator GridTile((RgbImage Image, string Caption, CaptionColor Color) t) => new(t.Image, t.Caption, t.Color);
}

/// <summary>
/// Lays images out in a grid of square cells with a caption under each (augmentation previews, prediction
/// grids, top losses). Each image is scaled to fit its cell keeping its aspect ratio: nearest-neighbour when
/// enlarged 4x or more (8x8 digits stay crisp pixels), bilinear otherwise.
/// </summary>
public static class ImageGrid
{
    private const int Gap = 8;

    /// <summary>Same as the <see cref="GridTile"/> overload, for (image, caption) pairs in the default colour.</summary>
    public static void Save(IReadOnlyList<(RgbImage Image, string Caption)> tiles, string pngPath, int columns = 8, int tileSize = 128, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        Save(tiles.Select(t => new GridTile(t.Image, t.Caption)).ToArray(), pngPath, columns, tileSize, title);
    }

    /// <summary>Draws the tiles into <paramref name="pngPath"/> (written atomically).</summary>
    /// <param name="tiles">Images with captions; a caption may hold several lines separated by '\n'.</param>
    /// <param name="pngPath">Output PNG.</param>
    /// <param name="columns">Tiles per row (fewer when there are fewer tiles).</param>
    /// <param name="tileSize">Side of the square cell each image is scaled into, in pixels.</param>
    /// <param name="title">Optional line drawn above the grid.</param>
    public static void Save(IReadOnlyList<GridTile> tiles, string pngPath, int columns = 8, int tileSize = 128, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        if (tiles.Count == 0) throw new ArgumentException("an image grid needs at least one tile", nameof(tiles));
        if (columns <= 0) throw new ArgumentOutOfRangeException(nameof(columns), $"columns must be positive, got {columns}");
        if (tileSize < 8) throw new ArgumentOutOfRangeException(nameof(tileSize), $"tileSize must be at least 8, got {tileSize}");
        ReportFonts.Ensure();

        int cols = Math.Min(columns, tiles.Count);
        int rows = (tiles.Count + cols - 1) / cols;
        // Caption text scales with the tile but stays readable on small tiles.
        float fontSize = Math.Clamp(tileSize / 9f, 11f, 16f);
        using var font = new SKFont(ReportFonts.Typeface, fontSize) { Edging = SKFontEdging.Antialias };
        using var titleFont = new SKFont(ReportFonts.Bold, fontSize + 4) { Edging = SKFontEdging.Antialias };
        float lineHeight = font.Spacing;
        int captionLines = tiles.Max(t => string.IsNullOrEmpty(t.Caption) ? 0 : t.Caption.Split('\n').Length);
        int captionHeight = (int)Math.Ceiling(captionLines * lineHeight) + (captionLines > 0 ? 4 : 0);
        int titleHeight = string.IsNullOrEmpty(title) ? 0 : (int)Math.Ceiling(titleFont.Spacing) + Gap;

        int cellW = tileSize + Gap, cellH = tileSize + captionHeight + Gap;
        int width = cols * cellW + Gap, height = rows * cellH + Gap + titleHeight;

        using var surface = SkiaImages.WhiteSurface(width, height);
        var canvas = surface.Canvas;
        using var textPaint = new SKPaint { IsAntialias = true };
        using var framePaint = new SKPaint { Color = new SKColor(225, 225, 225), IsAntialias = false };

        if (titleHeight > 0)
        {
            textPaint.Color = new SKColor(20, 20, 20);
            canvas.DrawText(SkiaImages.Fit(title!, titleFont, width - 2 * Gap), width / 2f, Gap - titleFont.Metrics.Ascent,
                SKTextAlign.Center, titleFont, textPaint);
        }

        for (int i = 0; i < tiles.Count; i++)
        {
            var tile = tiles[i];
            ArgumentNullException.ThrowIfNull(tile.Image, $"{nameof(tiles)}[{i}].Image");
            float left = Gap + (i % cols) * cellW, top = titleHeight + Gap + (i / cols) * cellH;
            canvas.DrawRect(new SKRect(left, top, left + tileSize, top + tileSize), framePaint);

            // Fit inside the square keeping aspect ratio, centred.
            float scale = Math.Min((float)tileSize / tile.Image.Width, (float)tileSize / tile.Image.Height);
            float w = tile.Image.Width * scale, h = tile.Image.Height * scale;
            var dest = new SKRect(left + (tileSize - w) / 2, top + (tileSize - h) / 2, left + (tileSize + w) / 2, top + (tileSize + h) / 2);
            var sampling = scale >= 4
                ? new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None)
                : new SKSamplingOptions(SKFilterMode.Linear, scale < 1 ? SKMipmapMode.Linear : SKMipmapMode.None);
            using (var bitmap = SkiaImages.ToBitmap(tile.Image))
            using (var image = SKImage.FromBitmap(bitmap))
                canvas.DrawImage(image, dest, sampling, null);

            if (string.IsNullOrEmpty(tile.Caption)) continue;
            var c = tile.Color ?? CaptionColor.Black;
            textPaint.Color = new SKColor(c.R, c.G, c.B);
            float baseline = top + tileSize + 2 - font.Metrics.Ascent;
            foreach (var line in tile.Caption.Split('\n'))
            {
                canvas.DrawText(SkiaImages.Fit(line, font, tileSize + Gap - 2), left + tileSize / 2f, baseline, SKTextAlign.Center, font, textPaint);
                baseline += lineHeight;
            }
        }
        SkiaImages.SavePng(surface, pngPath);
    }
}
