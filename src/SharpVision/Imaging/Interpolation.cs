namespace SharpVision.Imaging;

/// <summary>Resampling used when an image changes size.</summary>
public enum Interpolation
{
    Nearest,
    Bilinear,
    Bicubic,
    /// <summary>Box filter over the source pixels each output pixel covers (OpenCV's INTER_AREA).</summary>
    Area,
}
