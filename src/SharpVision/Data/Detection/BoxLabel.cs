namespace SharpVision.Data.Detection;

/// <summary>
/// One labelled box in pixel corner coordinates: <c>(X1, Y1)</c> is the top-left corner and <c>(X2, Y2)</c>
/// the bottom-right, as in keras-yolo3 annotation lines (<c>x_min,y_min,x_max,y_max,class</c>) and Pascal VOC
/// <c>bndbox</c>. Coordinates may be fractional; nothing is shifted (VOC's 1-based pixels are kept as written,
/// as keras-yolo3's <c>voc_annotation.py</c> does). A box read from a file is kept even when it is reversed or
/// outside the image, so <see cref="DetectionCheck"/> can report it; <see cref="IsValid"/> tells them apart.
/// </summary>
/// <param name="X1">Left edge in pixels.</param>
/// <param name="Y1">Top edge in pixels.</param>
/// <param name="X2">Right edge in pixels.</param>
/// <param name="Y2">Bottom edge in pixels.</param>
/// <param name="ClassId">Index into the data set's class list.</param>
/// <param name="Difficult">VOC's <c>difficult</c> flag (COCO <c>iscrowd</c> reads as difficult too).</param>
public sealed record BoxLabel(float X1, float Y1, float X2, float Y2, int ClassId, bool Difficult = false)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;

    /// <summary>Width times height, or 0 for a zero-size or reversed box.</summary>
    public float Area => Width > 0 && Height > 0 ? Width * Height : 0;

    /// <summary>Finite coordinates with <c>X2 &gt; X1</c> and <c>Y2 &gt; Y1</c>.</summary>
    public bool IsValid => float.IsFinite(X1) && float.IsFinite(Y1) && float.IsFinite(X2) && float.IsFinite(Y2) && X2 > X1 && Y2 > Y1;
}

/// <summary>Where something came from, for messages: <c>train.txt:12</c>, <c>Annotations/0001.xml:30</c>.</summary>
/// <param name="File">The annotation file.</param>
/// <param name="Line">1-based line, or 0 when the format has no useful line (COCO json).</param>
/// <param name="Detail">Extra place inside the line or file, e.g. <c>box 2</c> or <c>annotation id 17</c>.</param>
public sealed record SourceRef(string File, int Line = 0, string? Detail = null)
{
    public override string ToString()
        => (Line > 0 ? $"{File}:{Line}" : File) + (Detail is null ? "" : $" ({Detail})");
}

/// <summary>
/// One image and its boxes. <see cref="Width"/>/<see cref="Height"/> are known when the format stores them
/// (VOC, COCO, YOLO) and null for annotation lines (read lazily from the image header when needed).
/// </summary>
/// <param name="ImagePath">Absolute path (relative paths are resolved against the annotation file's folder).</param>
/// <param name="Boxes">The boxes, in file order.</param>
/// <param name="Width">Image width in pixels, when known.</param>
/// <param name="Height">Image height in pixels, when known.</param>
/// <param name="Source">The annotation file and line that described the image.</param>
/// <param name="BoxSources">Where each box came from, aligned with <see cref="Boxes"/>, when the format knows better than <see cref="Source"/>.</param>
public sealed record DetectionSample(
    string ImagePath,
    IReadOnlyList<BoxLabel> Boxes,
    int? Width = null,
    int? Height = null,
    SourceRef? Source = null,
    IReadOnlyList<SourceRef>? BoxSources = null)
{
    /// <summary>Where box <paramref name="index"/> came from, for messages.</summary>
    public SourceRef WhereIsBox(int index)
    {
        if (BoxSources is not null && index < BoxSources.Count) return BoxSources[index];
        var s = Source ?? new SourceRef(ImagePath);
        return s with { Detail = $"box {index + 1}" };
    }
}
