namespace SharpVision.Data.Detection;

/// <summary>What is wrong with an annotation (reading problems and <see cref="DetectionCheck"/> findings).</summary>
public enum IssueKind
{
    /// <summary>A field that is not a number, a box with the wrong number of fields, a malformed file.</summary>
    BadField,
    /// <summary>The image file named by an annotation does not exist.</summary>
    MissingImage,
    /// <summary>The image file exists but its header cannot be read.</summary>
    UnreadableImage,
    /// <summary>A box with x2 &lt; x1 or y2 &lt; y1.</summary>
    ReversedBox,
    /// <summary>A box with x2 == x1 or y2 == y1.</summary>
    ZeroSizeBox,
    /// <summary>A box reaching outside the image (negative coordinates included).</summary>
    OutOfImage,
    /// <summary>A class id outside the class list.</summary>
    ClassOutOfRange,
    /// <summary>A class name not in the class list (the box is skipped, as voc_annotation.py does).</summary>
    UnknownClass,
    /// <summary>A difficult box skipped on purpose (voc_annotation.py behaviour).</summary>
    SkippedDifficult,
    /// <summary>The same box (coordinates and class) twice in one image.</summary>
    DuplicateBox,
    /// <summary>The same image described twice.</summary>
    DuplicateImage,
    /// <summary>An image with no boxes (allowed: a background image).</summary>
    NoBoxes,
}

/// <summary>One finding, with the file and line it is about.</summary>
public sealed record DetectionIssue(IssueKind Kind, SourceRef Where, string Message)
{
    /// <summary>True for findings that are normal in a healthy data set (skipped difficult boxes, background images).</summary>
    public bool IsInformational => Kind is IssueKind.SkippedDifficult or IssueKind.NoBoxes;

    public override string ToString() => $"{Where}: {Message}";
}
