using SharpVision.Augmentation;
using SharpVision.Imaging;

namespace SharpVision.Tests.Augmentation;

/// <summary>
/// The acceptance tests of the warp: a single marked pixel must land where Keras' <c>apply_affine_transform</c>
/// puts it. The expectation is derived here from Keras' formula written out separately from the library:
/// transform_matrix = rotation @ shift @ shear @ zoom in (row, col), offset to the centre with
/// o_row = h/2 - 0.5 and o_col = w/2 - 0.5, used by scipy.ndimage.affine_transform as output -> input.
/// With bilinear interpolation a lone pixel of value 255 at input (R, C) shows at output (r, c) as
/// 255 * max(0, 1 - |r' - R|) * max(0, 1 - |c' - C|), where (r', c') is the input point the output pixel reads.
/// </summary>
public class AugmenterGeometryTests
{
    private const byte Mark = 255;

    private static RgbImage MarkedImage(int width, int height, int row, int col)
    {
        var image = new RgbImage(width, height);
        image[col, row] = (Mark, Mark, Mark);
        return image;
    }

    /// <summary>Keras' output-to-input mapping, written out from image.py (independent of Augmenter).</summary>
    private static (double Row, double Col) KerasInputPoint(int r, int c, int width, int height,
        double theta = 0, double tx = 0, double ty = 0, double shear = 0, double zx = 1, double zy = 1)
    {
        double t = theta * Math.PI / 180, s = shear * Math.PI / 180;
        // Keras: rotation [[cos, -sin], [sin, cos]], shift [[1,0,tx],[0,1,ty]], shear [[1, -sin s], [0, cos s]],
        // zoom diag(zx, zy); applied to centred coordinates, i.e. p_in = R (T (Sh (Z p))) with T adding (tx, ty).
        double oRow = height / 2.0 - 0.5, oCol = width / 2.0 - 0.5;
        double y = r - oRow, x = c - oCol;
        (y, x) = (zx * y, zy * x);                                  // zoom
        (y, x) = (y - Math.Sin(s) * x, Math.Cos(s) * x);            // shear
        (y, x) = (y + tx, x + ty);                                  // shift
        (y, x) = (Math.Cos(t) * y - Math.Sin(t) * x, Math.Sin(t) * y + Math.Cos(t) * x); // rotation
        return (y + oRow, x + oCol);
    }

    /// <summary>The whole expected output for a marked pixel, and the output pixel where the mark is strongest.</summary>
    private static (double[,] Expected, int Row, int Col) KerasExpected(int width, int height, int markRow, int markCol,
        Func<int, int, (double Row, double Col)> inputPoint)
    {
        var expected = new double[height, width];
        (int bestR, int bestC, double best) = (-1, -1, -1.0);
        for (int r = 0; r < height; r++)
            for (int c = 0; c < width; c++)
            {
                (double y, double x) = inputPoint(r, c);
                double v = Mark * Math.Max(0, 1 - Math.Abs(y - markRow)) * Math.Max(0, 1 - Math.Abs(x - markCol));
                expected[r, c] = v;
                if (v > best) (bestR, bestC, best) = (r, c, v);
            }
        return (expected, bestR, bestC);
    }

    private static void AssertMatches(double[,] expected, RgbImage actual)
    {
        for (int r = 0; r < actual.Height; r++)
            for (int c = 0; c < actual.Width; c++)
            {
                var (red, green, blue) = actual[c, r];
                Assert.True(Math.Abs(red - expected[r, c]) <= 1.0,
                    $"pixel (row {r}, col {c}) is {red}, Keras gives {expected[r, c]:F2}");
                Assert.Equal(red, green);
                Assert.Equal(red, blue);
            }
    }

    private static RgbImage Apply(RgbImage image, TransformParams p) =>
        new Augmenter(new AugmentOptions { FillMode = FillMode.Constant }).Apply(image, p);

    public static TheoryData<string, TransformParams> GeometricCases => new()
    {
        { "rotation 90", new TransformParams(Theta: 90) },
        { "rotation -30", new TransformParams(Theta: -30) },
        { "rotation 17.5", new TransformParams(Theta: 17.5) },
        { "height shift (tx, rows) +2", new TransformParams(Tx: 2) },
        { "height shift (tx, rows) -1.5", new TransformParams(Tx: -1.5) },
        { "width shift (ty, cols) +3", new TransformParams(Ty: 3) },
        { "width shift (ty, cols) -2.25", new TransformParams(Ty: -2.25) },
        { "shear 20", new TransformParams(Shear: 20) },
        { "shear -35", new TransformParams(Shear: -35) },
        { "zoom x (rows) 0.5", new TransformParams(Zx: 0.5) },
        { "zoom x (rows) 1.5", new TransformParams(Zx: 1.5) },
        { "zoom y (cols) 0.8", new TransformParams(Zy: 0.8) },
        { "zoom y (cols) 1.6", new TransformParams(Zy: 1.6) },
        { "all together", new TransformParams(Theta: 12, Tx: 1.3, Ty: -0.7, Shear: 9, Zx: 0.9, Zy: 1.1) },
    };

    [Theory]
    [MemberData(nameof(GeometricCases))]
    public void Marked_pixel_lands_where_keras_apply_affine_transform_puts_it(string name, TransformParams p)
    {
        // Given a black 11x9 (w x h) image with one white pixel off centre (non-square so rows and cols differ)
        const int width = 11, height = 9, markRow = 3, markCol = 6;
        RgbImage image = MarkedImage(width, height, markRow, markCol);

        // When the fixed parameters are applied
        RgbImage output = Apply(image, p);

        // Then every pixel equals Keras' bilinear resampling of the mark
        var (expected, row, col) = KerasExpected(width, height, markRow, markCol,
            (r, c) => KerasInputPoint(r, c, width, height, p.Theta, p.Tx, p.Ty, p.Shear, p.Zx, p.Zy));
        Assert.True(expected[row, col] > 0, $"{name}: the mark must stay inside the image for this case");
        AssertMatches(expected, output);
    }

    [Fact]
    public void Rotation_by_90_degrees_moves_top_centre_to_right_centre_on_5x5()
    {
        // Given a 5x5 image marked at (row 0, col 2); Keras: p_in - 2 = [[0, -1], [1, 0]] (p_out - 2),
        // so row_in = 2 - (c - 2) and col_in = 2 + (r - 2): (0, 2) is read by output (row 2, col 4).
        RgbImage image = MarkedImage(5, 5, 0, 2);

        RgbImage output = Apply(image, new TransformParams(Theta: 90));

        Assert.Equal((Mark, Mark, Mark), output[4, 2]); // indexer is [x = col, y = row]
        Assert.Equal(Mark * 3, output.Pixels.Sum(b => b)); // nothing else lit
    }

    [Fact]
    public void Height_shift_of_plus_one_row_moves_the_mark_up_one_row()
    {
        // Given a mark at (row 3, col 1) on 4x5; Keras' tx = +1: output row r reads input row r + 1
        RgbImage image = MarkedImage(4, 5, 3, 1);

        RgbImage output = Apply(image, new TransformParams(Tx: 1));

        Assert.Equal((Mark, Mark, Mark), output[1, 2]);
        Assert.Equal(Mark * 3, output.Pixels.Sum(b => b));
    }

    [Fact]
    public void Width_shift_of_minus_two_columns_moves_the_mark_right_two_columns()
    {
        // Given a mark at (row 1, col 0) on 6x3; ty = -2: output col c reads input col c - 2
        RgbImage image = MarkedImage(6, 3, 1, 0);

        RgbImage output = Apply(image, new TransformParams(Ty: -2));

        Assert.Equal((Mark, Mark, Mark), output[2, 1]);
        Assert.Equal(Mark * 3, output.Pixels.Sum(b => b));
    }

    [Fact]
    public void Zoom_above_one_shows_more_of_the_image_so_the_mark_moves_towards_the_centre()
    {
        // Given a 9x9 image marked at (row 0, col 4); zx = 2: row_in - 4 = 2 (row_out - 4), so row_out = 2
        RgbImage image = MarkedImage(9, 9, 0, 4);

        RgbImage output = Apply(image, new TransformParams(Zx: 2));

        Assert.Equal((Mark, Mark, Mark), output[4, 2]);
        Assert.Equal(Mark * 3, output.Pixels.Sum(b => b));
    }

    [Fact]
    public void Horizontal_flip_moves_marked_pixel_to_mirror_column()
    {
        // Given a 5x4 image marked at (row 1, col 0)
        RgbImage image = MarkedImage(5, 4, 1, 0);

        RgbImage output = Apply(image, new TransformParams(FlipHorizontal: true));

        Assert.Equal((Mark, Mark, Mark), output[4, 1]);
        Assert.Equal(Mark * 3, output.Pixels.Sum(b => b));
    }

    [Fact]
    public void Vertical_flip_moves_marked_pixel_to_mirror_row()
    {
        RgbImage image = MarkedImage(5, 4, 1, 3);

        RgbImage output = Apply(image, new TransformParams(FlipVertical: true));

        Assert.Equal((Mark, Mark, Mark), output[3, 2]);
        Assert.Equal(Mark * 3, output.Pixels.Sum(b => b));
    }

    [Fact]
    public void Flips_apply_after_the_warp_as_keras_does()
    {
        // Given a shift then a horizontal flip (Keras flips the warped image): mark (row 2, col 1) on 7x5,
        // ty = +1 moves it to col 0, the flip then to col 6.
        RgbImage image = MarkedImage(7, 5, 2, 1);

        RgbImage output = Apply(image, new TransformParams(Ty: 1, FlipHorizontal: true));

        Assert.Equal((Mark, Mark, Mark), output[6, 2]);
        Assert.Equal(Mark * 3, output.Pixels.Sum(b => b));
    }
}
