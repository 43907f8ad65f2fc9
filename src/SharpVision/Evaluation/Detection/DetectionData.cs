namespace SharpVision.Evaluation.Detection;

/// <summary>
/// One ground-truth object, its box in COCO form <c>[X, Y, Width, Height]</c> (pixels, no +1).
/// </summary>
/// <param name="ImageId">Image it belongs to.</param>
/// <param name="CategoryId">Its category (COCO <c>category_id</c>; class index + 1 for annotation lines).</param>
/// <param name="X">Left edge.</param>
/// <param name="Y">Top edge.</param>
/// <param name="Width">Width (may be below one pixel).</param>
/// <param name="Height">Height.</param>
public sealed record GroundTruthBox(long ImageId, int CategoryId, double X, double Y, double Width, double Height)
{
    /// <summary>
    /// The annotation's <c>area</c> field, which COCO uses for the small/medium/large ranges (for COCO's
    /// own data it is the segment's area, not <c>w*h</c>); null means <c>Width * Height</c>.
    /// </summary>
    public double? Area { get; init; }

    /// <summary>COCO <c>iscrowd</c>: a region of many objects that detections may fall into without penalty.</summary>
    public bool IsCrowd { get; init; }

    /// <summary>VOC <c>difficult</c>: neither counted as a positive nor penalised when detected.</summary>
    public bool Difficult { get; init; }

    /// <summary>The area the COCO range filters use: <see cref="Area"/> when given, else <c>w*h</c>.</summary>
    public double RangeArea => Area ?? Width * Height;
}

/// <summary>One detection, its box in COCO form <c>[X, Y, Width, Height]</c>, with its confidence.</summary>
public sealed record DetectionBox(long ImageId, int CategoryId, double X, double Y, double Width, double Height, double Score);

/// <summary>An evaluated image: its id and the name it was given (file path for annotation lines).</summary>
public sealed record DetectionImage(long Id, string Name);

/// <summary>A category: its id (COCO <c>category_id</c>) and display name.</summary>
public sealed record DetectionCategory(int Id, string Name);

/// <summary>
/// Ground truth and detections paired on the same image and category ids, ready for
/// <see cref="CocoEvaluator"/> and <see cref="VocEvaluator"/>. The lists keep input order, which decides
/// ties in score (stable sorts, as pycocotools).
/// </summary>
/// <param name="Images">Every evaluated image, with or without ground truth.</param>
/// <param name="Categories">The ground truth's categories (COCO's <c>categories</c>); detections of any other
/// category are not evaluated.</param>
/// <param name="GroundTruth">Ground-truth objects, in file order.</param>
/// <param name="Detections">Detections, in file order.</param>
public sealed record DetectionEvalData(
    IReadOnlyList<DetectionImage> Images,
    IReadOnlyList<DetectionCategory> Categories,
    IReadOnlyList<GroundTruthBox> GroundTruth,
    IReadOnlyList<DetectionBox> Detections)
{
    /// <summary>
    /// Checks what pycocotools' <c>loadRes</c> asserts: every detection is on a known image. Also refuses
    /// ground truth on an unknown image or category, and boxes with negative or non-finite sizes.
    /// </summary>
    /// <exception cref="DatasetException">A detection or object refers to an unknown image, or a box is invalid.</exception>
    public void Validate()
    {
        var images = Images.Select(i => i.Id).ToHashSet();
        var categories = Categories.Select(c => c.Id).ToHashSet();
        if (Categories.Select(c => c.Id).Distinct().Count() != Categories.Count)
            throw new DatasetException("the ground truth lists a category id twice.");
        foreach (var g in GroundTruth)
        {
            if (!images.Contains(g.ImageId))
                throw new DatasetException($"a ground-truth object is on image id {g.ImageId}, which is not among the ground truth's images.");
            if (!categories.Contains(g.CategoryId))
                throw new DatasetException($"a ground-truth object on image id {g.ImageId} has category_id {g.CategoryId}, which is not among the ground truth's categories.");
            CheckBox(g.X, g.Y, g.Width, g.Height, $"ground-truth box on image id {g.ImageId}");
        }
        foreach (var d in Detections)
        {
            if (!images.Contains(d.ImageId))
                throw new DatasetException($"a detection is on image id {d.ImageId}, which is not among the ground truth's images (pycocotools refuses such results too).");
            CheckBox(d.X, d.Y, d.Width, d.Height, $"detection on image id {d.ImageId}");
            if (!double.IsFinite(d.Score))
                throw new DatasetException($"a detection on image id {d.ImageId} has score {d.Score}; scores must be finite numbers.");
        }
    }

    private static void CheckBox(double x, double y, double w, double h, string what)
    {
        if (!double.IsFinite(x) || !double.IsFinite(y) || !double.IsFinite(w) || !double.IsFinite(h) || w < 0 || h < 0)
            throw new DatasetException($"{what} is [{x}, {y}, {w}, {h}]; boxes need finite numbers and width, height >= 0.");
    }
}
