namespace SharpVision.Data;

/// <summary>One labelled image file: <see cref="Label"/> indexes the dataset's class list.</summary>
public sealed record ImageSample(string Path, int Label);
