namespace SharpVision.Augmentation;

/// <summary>How points outside the input are filled by the affine warp (Keras' <c>fill_mode</c>, scipy.ndimage modes).</summary>
public enum FillMode
{
    /// <summary>Edge pixels repeat: <c>aaaa | abcd | dddd</c>.</summary>
    Nearest,
    /// <summary>A constant value (<c>cval</c>) outside the input: <c>kkkk | abcd | kkkk</c>.</summary>
    Constant,
    /// <summary>Mirror about the outer pixel edge (scipy 'reflect'): <c>dcba | abcd | dcba</c>.</summary>
    Reflect,
    /// <summary>Periodic: <c>abcd | abcd | abcd</c>.</summary>
    Wrap,
}
