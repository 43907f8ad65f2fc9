namespace SharpVision.Cli.Commands;

public static class SummaryCommand
{
    public static int Run(string[] args) => throw new SharpVisionException("Summary is being built");
}
