namespace SharpVision.Cli.Commands;

public static class AugmentPreviewCommand
{
    public static int Run(string[] args) => throw new SharpVisionException("AugmentPreview is being built");
}
