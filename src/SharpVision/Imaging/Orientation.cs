using SkiaSharp;

namespace SharpVision.Imaging;

/// <summary>Turns stored pixels upright according to an EXIF orientation (all eight cases).</summary>
public static class Orientation
{
    /// <summary>
    /// Returns the image as it should be displayed when its stored rows and columns have the given
    /// <paramref name="origin"/> (EXIF tag 0x0112: where stored row 0 / column 0 go). TopLeft returns the input.
    /// </summary>
    public static RgbImage Apply(RgbImage stored, SKEncodedOrigin origin)
    {
        int sw = stored.Width, sh = stored.Height;
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop
            or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        if (origin == SKEncodedOrigin.TopLeft || (int)origin < 1 || (int)origin > 8)
            return stored;
        int dw = swap ? sh : sw, dh = swap ? sw : sh;
        var result = new RgbImage(dw, dh);
        byte[] src = stored.Pixels, dst = result.Pixels;
        for (int r = 0; r < dh; r++)
        {
            for (int c = 0; c < dw; c++)
            {
                // (sr, sc): the stored pixel displayed at row r, column c.
                (int sr, int sc) = origin switch
                {
                    SKEncodedOrigin.TopRight => (r, sw - 1 - c),                // mirrored left-right
                    SKEncodedOrigin.BottomRight => (sh - 1 - r, sw - 1 - c),    // rotated 180
                    SKEncodedOrigin.BottomLeft => (sh - 1 - r, c),              // mirrored top-bottom
                    SKEncodedOrigin.LeftTop => (c, r),                          // transposed
                    SKEncodedOrigin.RightTop => (dw - 1 - c, r),                // needs 90 degrees clockwise
                    SKEncodedOrigin.RightBottom => (dw - 1 - c, dh - 1 - r),    // transverse
                    _ /* LeftBottom */ => (c, dh - 1 - r),                      // needs 90 degrees counter-clockwise
                };
                int s = (sr * sw + sc) * 3, d = (r * dw + c) * 3;
                dst[d] = src[s];
                dst[d + 1] = src[s + 1];
                dst[d + 2] = src[s + 2];
            }
        }
        return result;
    }
}
