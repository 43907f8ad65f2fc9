namespace SharpVision.Augmentation;

/// <summary>
/// The random parameters drawn for one sample, named and laid out as in Keras' <c>get_random_transform</c>.
/// Keras builds its matrix in (row, column) coordinates, so <see cref="Tx"/> is the shift along rows (vertical,
/// from <c>height_shift_range</c>) and <see cref="Ty"/> the shift along columns (horizontal, from
/// <c>width_shift_range</c>); <see cref="Zx"/> scales rows and <see cref="Zy"/> columns.
/// </summary>
/// <param name="Theta">Rotation in degrees (positive turns the content clockwise on screen, as Keras does with scipy).</param>
/// <param name="Tx">Row shift in pixels: the output row r reads input row r + Tx (content moves up for Tx &gt; 0).</param>
/// <param name="Ty">Column shift in pixels: the output column c reads input column c + Ty (content moves left for Ty &gt; 0).</param>
/// <param name="Shear">Shear angle in degrees (Keras 2.x convention).</param>
/// <param name="Zx">Zoom factor along rows; above 1 shows more of the image (content gets smaller).</param>
/// <param name="Zy">Zoom factor along columns; above 1 shows more of the image.</param>
/// <param name="FlipHorizontal">Mirror left-right (applied after the warp, as Keras does).</param>
/// <param name="FlipVertical">Mirror top-bottom (applied after the warp).</param>
/// <param name="Brightness">PIL <c>ImageEnhance.Brightness</c> factor: pixel values are multiplied and clipped to 0..255.</param>
public sealed record TransformParams(
    double Theta = 0,
    double Tx = 0,
    double Ty = 0,
    double Shear = 0,
    double Zx = 1,
    double Zy = 1,
    bool FlipHorizontal = false,
    bool FlipVertical = false,
    double Brightness = 1)
{
    /// <summary>Parameters that leave every image unchanged.</summary>
    public static TransformParams Identity { get; } = new();

    /// <summary>True when no geometric change is asked for (brightness may still change).</summary>
    public bool IsGeometricIdentity =>
        Theta == 0 && Tx == 0 && Ty == 0 && Shear == 0 && Zx == 1 && Zy == 1 && !FlipHorizontal && !FlipVertical;
}
